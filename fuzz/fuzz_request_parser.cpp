// The strict request parser (PROTOCOL.md §4) on arbitrary bytes: it must
// never crash, hang or accept something it cannot re-encode. A request it
// accepts, encoded again by our own encoders, must parse to the same request.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "palyra/runtime/protocol.hpp"

namespace {

std::string reencode(const palyra::runtime::Request& r) {
  using palyra::runtime::Method;
  switch (r.method) {
    case Method::Health:
      return palyra::runtime::encode_health_request();
    case Method::StreamEvents:
      return palyra::runtime::encode_stream_events_request(r.resume_from, r.follow);
    case Method::PublishEvent:
      return palyra::runtime::encode_publish_request(r.event_name, r.event_payload_json,
                                                     r.publish_id);
    case Method::Enroll:
      return palyra::runtime::encode_enroll_request(r.token, r.csr_pem, r.device_id);
    case Method::RenewCertificate:
      return palyra::runtime::encode_renew_request(r.csr_pem);
  }
  return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view frame(reinterpret_cast<const char*>(data), size);
  auto parsed = palyra::runtime::parse_request(frame);
  const auto* request = std::get_if<palyra::runtime::Request>(&parsed);
  if (request == nullptr) return 0;
  if (request->method == palyra::runtime::Method::PublishEvent &&
      (request->event_name.empty() ||
       request->event_name.size() > palyra::runtime::kMaxEventNameBytes)) {
    std::abort();  // an accepted publish always has a valid name
  }
  auto again = palyra::runtime::parse_request(reencode(*request));
  const auto* round_trip = std::get_if<palyra::runtime::Request>(&again);
  // resume_from only means something to node.stream_events (the others
  // ignore it, and their encoders do not write it).
  const bool resume_differs =
      request->method == palyra::runtime::Method::StreamEvents && round_trip != nullptr &&
      round_trip->resume_from.value_or(0) != request->resume_from.value_or(0);
  if (round_trip == nullptr || round_trip->method != request->method || resume_differs ||
      round_trip->follow != request->follow || round_trip->event_name != request->event_name ||
      round_trip->event_payload_json != request->event_payload_json ||
      round_trip->publish_id != request->publish_id || round_trip->token != request->token ||
      round_trip->csr_pem != request->csr_pem || round_trip->device_id != request->device_id) {
    std::abort();
  }
  return 0;
}
