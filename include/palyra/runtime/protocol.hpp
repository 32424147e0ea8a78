// Requests and responses of PROTOCOL.md §4: strict parsing of what a peer
// sends, exact bytes for what we send.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "palyra/common/event_view.hpp"
#include "palyra/common/result.hpp"

namespace palyra::runtime {

inline constexpr std::uint16_t kProtocolVersion = 1;
inline constexpr std::size_t kMaxEventNameBytes = 128;
// node.publish_event's optional params.id: 1 to this many bytes.
inline constexpr std::size_t kMaxPublishIdBytes = 64;
inline constexpr int kMaxJsonDepth = 64;

enum class Method { Health, StreamEvents, PublishEvent, Enroll, RenewCertificate };

// PEM text in node.enroll / node.renew_certificate is bounded well below a
// frame: a P-256 CSR is under 1 KiB.
inline constexpr std::size_t kMaxCsrBytes = std::size_t{16} * 1024;

struct Request {
  Method method = Method::Health;
  std::optional<std::uint64_t> resume_from;  // node.stream_events
  bool follow = false;                       // node.stream_events
  std::string event_name;                    // node.publish_event
  std::string event_payload_json;            // node.publish_event, compact JSON
  std::optional<std::string> publish_id;     // node.publish_event, optional: idempotent
  std::string token;                         // node.enroll: "<id>.<secret>"
  std::string csr_pem;                       // node.enroll, node.renew_certificate
  std::optional<std::string> device_id;      // node.enroll, optional
};

enum class ProtocolError {
  InvalidRequest,
  ProtocolMismatch,
  UnsupportedMethod,
  InvalidParams,
  ResumeGap,
  EnrollRefused,
  RenewalRefused,
  StreamFailure,
};
std::string_view wire_name(ProtocolError error) noexcept;

struct RequestError {
  ProtocolError kind;
  std::string detail;  // for logs; never sent to the peer
};

// Checks in this order (the order interoperating peers use): a JSON object
// with exactly the known fields of the right types and no duplicate keys
// (else invalid_request); protocol_version == 1 (else protocol_mismatch); a
// known method (else unsupported_method); the method's params (else
// invalid_params).
std::variant<Request, RequestError> parse_request(std::string_view frame);

// --- Encoders: compact JSON, fields in the order PROTOCOL.md lists them ---
std::string encode_health(bool mtls_required);
std::string encode_event(const EventView& event);
// Appends one event frame, length prefix included, to `out`: the stream
// path, which batches many frames into one buffer without a string each.
void append_event_frame(std::string& out, const EventView& event);
std::string encode_published(std::uint64_t seq);
// PROTOCOL.md §7 and §4: a node's new certificate and the CA bundle to trust.
std::string encode_enrolled(std::string_view device_id, std::string_view certificate_pem,
                            std::string_view ca_pem);
std::string encode_certificate(std::string_view certificate_pem, std::string_view ca_pem);
// `seq` only with resume_gap: the oldest retained sequence number.
std::string encode_error(ProtocolError error, std::optional<std::uint64_t> seq = std::nullopt);

std::string encode_health_request();
std::string encode_stream_events_request(std::optional<std::uint64_t> resume_from, bool follow);
std::string encode_publish_request(std::string_view name, std::string_view payload_json,
                                   std::optional<std::string_view> publish_id = std::nullopt);
std::string encode_enroll_request(std::string_view token, std::string_view csr_pem,
                                  const std::optional<std::string>& device_id);
std::string encode_renew_request(std::string_view csr_pem);

// Appends `text` as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view text);

// --- Client side ---
struct Response {
  std::string kind;  // health, event, published, certificate, enrolled, error
  bool ok = false;
  std::optional<std::uint64_t> seq;
  std::optional<bool> node_rpc_mtls_required;
  std::optional<std::string> error;
  std::optional<std::string> event_json;   // the "event" value, exactly as sent
  std::optional<std::string> certificate;  // certificate, enrolled
  std::optional<std::string> ca;           // certificate, enrolled
  std::optional<std::string> device_id;    // enrolled
};

// Unknown fields are ignored; InvalidArgument when the frame is not a JSON
// object (strict RFC 8259, nesting up to kMaxJsonDepth) with "kind" (string)
// and "ok" (bool).
Result<Response> parse_response(std::string_view frame);

}  // namespace palyra::runtime
