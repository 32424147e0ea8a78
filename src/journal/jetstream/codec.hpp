// How an event is carried in a JetStream message: the payload is the data,
// the rest are headers. The seq is not carried: it is the stream sequence.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <string>

#include "nats_handles.hpp"
#include "palyra/common/result.hpp"
#include "palyra/journal/journal.hpp"

namespace palyra::journal::jetstream {

// The message to publish on `subject`, stamped with `published_at_unix_ms`.
Result<NatsPtr<natsMsg>> encode_event(const std::string& subject, const NewEvent& event,
                                      std::int64_t published_at_unix_ms);

// JetStream's message id for a publish id: scoped per device, so two devices
// may use the same id. Unambiguous: device ids are A-Z a-z 0-9 . _ - (no /).
std::string message_id(const std::string& device_id, const std::string& publish_id);

// The event stored as `msg` at stream sequence `seq`.
Result<EventPtr> decode_event(natsMsg* msg, std::uint64_t seq);

}  // namespace palyra::journal::jetstream
