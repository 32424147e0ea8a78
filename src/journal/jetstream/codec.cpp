#include "codec.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <string_view>

namespace palyra::journal::jetstream {

namespace {

constexpr std::string_view kMagic = "P1 ";

// The header-format fields (messages written before the body format).
constexpr const char* kName = "Palyra-Name";
constexpr const char* kDevice = "Palyra-Device";
constexpr const char* kPublishedAt = "Palyra-Published-At";  // unix ms

// Parses the decimal number at the front of `text` up to `end`, consuming
// it and the separator.
template <typename Integer>
bool take_number(std::string_view& text, char end, Integer& value) {
  const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
  if (parsed.ec != std::errc{} || parsed.ptr == text.data() + text.size() || *parsed.ptr != end)
    return false;
  text.remove_prefix(static_cast<std::size_t>(parsed.ptr - text.data()) + 1);
  return true;
}

Error not_an_event(std::uint64_t seq, std::string_view why) {
  return Error(Errc::StorageFailed,
               fmt::format("stream message {} is not a journal event: {}", seq, why));
}

std::string_view body_of(natsMsg* msg) {
  const char* data = natsMsg_GetData(msg);
  if (data == nullptr) return {};
  return {data, static_cast<std::size_t>(natsMsg_GetDataLength(msg))};
}

// A header's value viewing the message, or "" when absent.
std::string_view header(natsMsg* msg, const char* key) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, key, &value) != NATS_OK || value == nullptr) return {};
  return value;
}

Result<EventView> view_header_event(natsMsg* msg, std::uint64_t seq, std::string_view body) {
  EventView event{seq, header(msg, kName), body, header(msg, kDevice), 0};
  const std::string_view at = header(msg, kPublishedAt);
  const auto parsed = std::from_chars(at.data(), at.data() + at.size(), event.published_at_unix_ms);
  if (event.name.empty() || parsed.ec != std::errc{} || parsed.ptr != at.data() + at.size()) {
    return not_an_event(seq, fmt::format("its body does not begin with '{}' and it has no {} "
                                         "or {} header",
                                         kMagic.substr(0, 2), kName, kPublishedAt));
  }
  return event;
}

}  // namespace

Result<NatsPtr<natsMsg>> encode_event(const std::string& subject, const NewEvent& event,
                                      std::int64_t published_at_unix_ms) {
  fmt::memory_buffer body;
  fmt::format_to(std::back_inserter(body), "{}{} {} {}\n", kMagic, published_at_unix_ms,
                 event.name.size(), event.device_id.size());
  body.append(event.name);
  body.append(event.device_id);
  body.append(event.payload_json);
  natsMsg* raw = nullptr;
  const natsStatus status =
      natsMsg_Create(&raw, subject.c_str(), nullptr, body.data(), static_cast<int>(body.size()));
  NatsPtr<natsMsg> msg(raw);
  if (status != NATS_OK) return nats_error("creating a message", status);
  return msg;
}

std::string message_id(const std::string& device_id, const std::string& publish_id) {
  return device_id + "/" + publish_id;
}

Result<EventView> view_event(natsMsg* msg, std::uint64_t seq) {
  const std::string_view body = body_of(msg);
  if (body.substr(0, kMagic.size()) != kMagic) return view_header_event(msg, seq, body);
  std::string_view rest = body.substr(kMagic.size());
  EventView event{seq, {}, {}, {}, 0};
  std::size_t name_bytes = 0;
  std::size_t device_bytes = 0;
  if (!take_number(rest, ' ', event.published_at_unix_ms) || !take_number(rest, ' ', name_bytes) ||
      !take_number(rest, '\n', device_bytes)) {
    return not_an_event(seq, "its first line is not 'P1 <ms> <name bytes> <device bytes>'");
  }
  if (name_bytes == 0 || name_bytes > rest.size() || device_bytes > rest.size() - name_bytes) {
    return not_an_event(seq, fmt::format("it announces a {}-byte name and a {}-byte device id "
                                         "in {} bytes",
                                         name_bytes, device_bytes, rest.size()));
  }
  event.name = rest.substr(0, name_bytes);
  event.device_id = rest.substr(name_bytes, device_bytes);
  event.payload_json = rest.substr(name_bytes + device_bytes);
  return event;
}

Result<std::uint64_t> delivered_stream_seq(natsMsg* msg) {
  const char* reply = natsMsg_GetReply(msg);
  const std::string_view subject = reply == nullptr ? std::string_view{} : reply;
  // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>
  // or, with a domain and an account hash after ACK, 12 tokens or more.
  constexpr std::size_t kMostTokens = 16;
  std::array<std::string_view, kMostTokens> tokens;
  std::size_t count = 0;
  std::size_t start = 0;
  while (count < kMostTokens) {
    const std::size_t dot = subject.find('.', start);
    tokens[count++] = subject.substr(start, dot - start);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  std::size_t index = 0;
  if (count == 9) {
    index = 5;
  } else if (count >= 11) {
    index = 7;
  }
  std::uint64_t seq = 0;
  if (index != 0 && tokens[0] == "$JS" && tokens[1] == "ACK") {
    const std::string_view token = tokens[index];
    const auto parsed = std::from_chars(token.data(), token.data() + token.size(), seq);
    if (parsed.ec == std::errc{} && parsed.ptr == token.data() + token.size() && seq > 0)
      return seq;
  }
  return Error(
      Errc::StorageFailed,
      fmt::format("a delivered message's reply subject '{}' names no stream sequence", subject));
}

}  // namespace palyra::journal::jetstream
