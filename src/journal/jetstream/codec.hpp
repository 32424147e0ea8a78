// How an event is carried in a JetStream message, and how a delivered
// message names its stream sequence (the seq is not carried: it is the
// stream sequence).
//
// The body is a short text line, then the name, device id and payload back
// to back:
//
//   P1 <published_at_unix_ms> <name bytes> <device id bytes>\n<name><device id><payload>
//
// e.g. "P1 1733550000000 9 6\ndoor.opennode-7{\"open\":true}". Everything in
// the body, nothing in headers, because a reader behind the tail decodes
// every event it sends: the client library parses headers into a hash table
// per message, which cost more than the rest of a read (docs/BENCHMARKS.md,
// "Journal backends"). A publish id still travels as the Nats-Msg-Id header,
// which the servers deduplicate on and readers never look at.
//
// Messages written before this format (the event's fields as headers
// Palyra-Name, Palyra-Device, Palyra-Published-At and the payload as the
// body) are still read: a JSON payload never begins with "P1 ".
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

// The event stored as `msg` at stream sequence `seq`, viewing `msg`'s memory:
// valid while `msg` is. StorageFailed when `msg` is not a journal event.
Result<EventView> view_event(natsMsg* msg, std::uint64_t seq);

// The stream sequence of a message a consumer delivered, read from its reply
// subject ($JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.… , or the
// longer form with a domain and an account hash) without the allocations of
// natsMsg_GetMetaData. StorageFailed when the subject is neither.
Result<std::uint64_t> delivered_stream_seq(natsMsg* msg);

}  // namespace palyra::journal::jetstream
