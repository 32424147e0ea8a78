#include "codec.hpp"

#include <charconv>
#include <memory>

namespace palyra::journal::jetstream {

namespace {
constexpr const char* kName = "Palyra-Name";
constexpr const char* kDevice = "Palyra-Device";
constexpr const char* kPublishedAt = "Palyra-Published-At";  // unix ms

// A header's value, or "" when absent (an empty device id is not sent: NATS
// headers may not be empty).
std::string header(natsMsg* msg, const char* key) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, key, &value) != NATS_OK || value == nullptr) return {};
  return value;
}
}  // namespace

Result<NatsPtr<natsMsg>> encode_event(const std::string& subject, const NewEvent& event,
                                      std::int64_t published_at_unix_ms) {
  natsMsg* raw = nullptr;
  natsStatus status = natsMsg_Create(&raw, subject.c_str(), nullptr, event.payload_json.data(),
                                     static_cast<int>(event.payload_json.size()));
  NatsPtr<natsMsg> msg(raw);
  if (status != NATS_OK) return nats_error("creating a message", status);
  const std::string at = std::to_string(published_at_unix_ms);
  status = natsMsgHeader_Set(msg.get(), kName, event.name.c_str());
  if (status == NATS_OK) status = natsMsgHeader_Set(msg.get(), kPublishedAt, at.c_str());
  if (status == NATS_OK && !event.device_id.empty())
    status = natsMsgHeader_Set(msg.get(), kDevice, event.device_id.c_str());
  if (status != NATS_OK) return nats_error("setting the event's headers", status);
  return msg;
}

std::string message_id(const std::string& device_id, const std::string& publish_id) {
  return device_id + "/" + publish_id;
}

Result<EventPtr> decode_event(natsMsg* msg, std::uint64_t seq) {
  auto event = std::make_shared<StoredEvent>();
  event->seq = seq;
  event->name = header(msg, kName);
  event->device_id = header(msg, kDevice);
  const std::string at = header(msg, kPublishedAt);
  const auto parsed =
      std::from_chars(at.data(), at.data() + at.size(), event->published_at_unix_ms);
  if (event->name.empty() || parsed.ec != std::errc{} || parsed.ptr != at.data() + at.size()) {
    return Error(Errc::StorageFailed, "stream message " + std::to_string(seq) +
                                          " is not a journal event (no " + kName + " or " +
                                          kPublishedAt + " header)");
  }
  const char* data = natsMsg_GetData(msg);
  event->payload_json.assign(data == nullptr ? "" : data,
                             static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  return EventPtr(std::move(event));
}

}  // namespace palyra::journal::jetstream
