// The one JetStream stream behind a journal: creating it or bringing its
// limits in line with the options, and asking for its state.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <string>

#include "palyra/common/result.hpp"
#include "palyra/journal/journal.hpp"

namespace palyra::journal::jetstream {

// The subject every event is published on: the stream holds this one only.
std::string subject_for(const std::string& stream);

struct StreamState {
  std::uint64_t first_seq = 0;  // the oldest retained message (last_seq + 1 when empty)
  std::uint64_t last_seq = 0;   // the newest ever stored; 0 if none
  std::uint64_t messages = 0;
};

// Adds the stream if it does not exist, else updates it to these limits:
// max_msgs from retention.max_events, max_age from retention.max_age,
// duplicates (the message-id window) from dedup_window, file storage,
// direct gets allowed (reads by sequence from any replica). While the
// cluster is not ready (still electing leaders) it retries for up to
// backend.startup_wait.
Result<StreamState> ensure_stream(jsCtx* js, const JetStreamBackend& backend,
                                  const JournalOptions& options);

Result<StreamState> stream_state(jsCtx* js, const std::string& stream);

}  // namespace palyra::journal::jetstream
