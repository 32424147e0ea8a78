// The gRPC fallback's mapping (include/palyra/fallback/mapping.hpp) on
// arbitrary bytes. The first byte picks what the rest is parsed as:
//   0-4: a request message (Health, StreamEvents, PublishEvent, Enroll,
//        RenewCertificate) in protobuf wire format: the frame it maps to must
//        be one the request parser reads as well-formed (never
//        invalid_request), with the message's method and fields;
//   5:   a NodeResponse: a frame it maps to must map back to the same bytes;
//   6:   a response frame (JSON text), mapped to a NodeResponse and back.
// None of them may crash, throw or hang.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "palyra/fallback/mapping.hpp"
#include "palyra/runtime/protocol.hpp"

namespace {

using palyra::runtime::Method;
using palyra::runtime::ProtocolError;

void check(bool condition) {
  if (!condition) std::abort();
}

// What the request parser makes of a frame the mapping built.
const palyra::runtime::Request* parsed_as(
    const std::string& frame, std::uint32_t version,
    std::variant<palyra::runtime::Request, palyra::runtime::RequestError>& out) {
  out = palyra::runtime::parse_request(frame);
  if (const auto* error = std::get_if<palyra::runtime::RequestError>(&out)) {
    // The frame carries the version as given, as a QUIC client's would: one
    // beyond the protocol's u16 is invalid_request there too.
    if (version > 0xffff) return nullptr;
    check(error->kind != ProtocolError::InvalidRequest);
    if (version != palyra::runtime::kProtocolVersion)
      check(error->kind == ProtocolError::ProtocolMismatch);
    return nullptr;
  }
  check(version == palyra::runtime::kProtocolVersion);
  return &std::get<palyra::runtime::Request>(out);
}

template <typename Message>
bool parse(Message& message, std::string_view bytes) {
  return message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

void requests(std::uint8_t which, std::string_view bytes) {
  std::variant<palyra::runtime::Request, palyra::runtime::RequestError> out;
  switch (which) {
    case 0: {
      palyra::node::v1::HealthRequest m;
      if (!parse(m, bytes)) return;
      if (const auto* r =
              parsed_as(palyra::fallback::request_frame(m), m.protocol_version(), out)) {
        check(r->method == Method::Health);
      }
      return;
    }
    case 1: {
      palyra::node::v1::StreamEventsRequest m;
      if (!parse(m, bytes)) return;
      if (const auto* r =
              parsed_as(palyra::fallback::request_frame(m), m.protocol_version(), out)) {
        check(r->method == Method::StreamEvents && r->follow == m.follow() &&
              r->resume_from.has_value() == m.has_resume_from() &&
              r->resume_from.value_or(0) == m.resume_from());
      }
      return;
    }
    case 2: {
      palyra::node::v1::PublishEventRequest m;
      if (!parse(m, bytes)) return;
      // The frontend answers invalid_params itself for a payload that is not JSON.
      if (!palyra::fallback::is_valid_json(m.payload_json())) return;
      if (const auto* r =
              parsed_as(palyra::fallback::request_frame(m), m.protocol_version(), out)) {
        check(r->method == Method::PublishEvent && r->event_name == m.name() &&
              r->publish_id.has_value() == m.has_id() && r->publish_id.value_or("") == m.id());
      }
      return;
    }
    case 3: {
      palyra::node::v1::EnrollRequest m;
      if (!parse(m, bytes)) return;
      if (const auto* r =
              parsed_as(palyra::fallback::request_frame(m), m.protocol_version(), out)) {
        check(r->method == Method::Enroll && r->token == m.token() && r->csr_pem == m.csr() &&
              r->device_id.has_value() == m.has_device_id());
      }
      return;
    }
    case 4: {
      palyra::node::v1::RenewCertificateRequest m;
      if (!parse(m, bytes)) return;
      if (const auto* r =
              parsed_as(palyra::fallback::request_frame(m), m.protocol_version(), out)) {
        check(r->method == Method::RenewCertificate && r->csr_pem == m.csr());
      }
      return;
    }
    default:
      return;
  }
}

// A frame our mapping produced is one it reads back to the same bytes.
void round_trip(const std::string& frame) {
  check(palyra::runtime::parse_response(frame).ok());
  auto message = palyra::fallback::to_response_message(frame);
  check(message.ok());
  auto again = palyra::fallback::to_response_frame(*message);
  check(again.ok() && *again == frame);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    // Protobuf logs every string field that is not UTF-8; the fuzzer makes many.
    google::protobuf::SetLogHandler(
        [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
    return true;
  }();
  (void)quiet;
  if (size == 0) return 0;
  const std::uint8_t which = data[0] % 7;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (which <= 4) {
    requests(which, rest);
  } else if (which == 5) {
    palyra::node::v1::NodeResponse response;
    if (!parse(response, rest)) return 0;
    auto frame = palyra::fallback::to_response_frame(response);
    if (frame) round_trip(*frame);
  } else {
    auto message = palyra::fallback::to_response_message(rest);
    if (!message) return 0;
    auto frame = palyra::fallback::to_response_frame(*message);
    if (frame) round_trip(*frame);
  }
  return 0;
}
