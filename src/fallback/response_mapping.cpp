#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "palyra/fallback/mapping.hpp"
#include "palyra/runtime/protocol.hpp"

namespace palyra::fallback {
namespace {

constexpr std::string_view kVersionPrefix = R"({"protocol_version":1,)";

// Our encoders write protocol_version 1; a gRPC caller may have sent
// another, which the handlers must see (to answer protocol_mismatch).
std::string with_version(std::string frame, std::uint32_t version) {
  if (version != 1 && frame.starts_with(kVersionPrefix)) {
    frame.replace(0, kVersionPrefix.size(),
                  R"({"protocol_version":)" + std::to_string(version) + ",");
  }
  return frame;
}

std::optional<runtime::ProtocolError> error_from_wire(std::string_view name) {
  constexpr std::array all = {
      runtime::ProtocolError::InvalidRequest,    runtime::ProtocolError::ProtocolMismatch,
      runtime::ProtocolError::UnsupportedMethod, runtime::ProtocolError::InvalidParams,
      runtime::ProtocolError::ResumeGap,         runtime::ProtocolError::EnrollRefused,
      runtime::ProtocolError::RenewalRefused,    runtime::ProtocolError::StreamFailure};
  for (auto error : all) {
    if (runtime::wire_name(error) == name) return error;
  }
  return std::nullopt;
}

}  // namespace

std::string request_frame(const node::v1::HealthRequest& request) {
  return with_version(runtime::encode_health_request(), request.protocol_version());
}

std::string request_frame(const node::v1::StreamEventsRequest& request) {
  std::optional<std::uint64_t> resume_from;
  if (request.has_resume_from()) resume_from = request.resume_from();
  return with_version(runtime::encode_stream_events_request(resume_from, request.follow()),
                      request.protocol_version());
}

std::string request_frame(const node::v1::PublishEventRequest& request) {
  std::optional<std::string_view> id;
  if (request.has_id()) id = request.id();
  return with_version(runtime::encode_publish_request(request.name(), request.payload_json(), id),
                      request.protocol_version());
}

std::string request_frame(const node::v1::EnrollRequest& request) {
  std::optional<std::string> device_id;
  if (request.has_device_id()) device_id = request.device_id();
  return with_version(runtime::encode_enroll_request(request.token(), request.csr(), device_id),
                      request.protocol_version());
}

std::string request_frame(const node::v1::RenewCertificateRequest& request) {
  return with_version(runtime::encode_renew_request(request.csr()), request.protocol_version());
}

// nlohmann's lexer takes a NUL byte for the end of the input, so it would
// accept `1\0junk`; the request parser refuses the frame that carries it.
bool is_valid_json(std::string_view text) {
  return text.find('\0') == std::string_view::npos && nlohmann::json::accept(text);
}

Result<node::v1::NodeResponse> to_response_message(std::string_view response_frame) {
  auto parsed = runtime::parse_response(response_frame);
  if (!parsed) return std::move(parsed).error();
  node::v1::NodeResponse out;
  out.set_protocol_version(runtime::kProtocolVersion);
  out.set_kind(parsed->kind);
  out.set_ok(parsed->ok);
  if (parsed->seq) out.set_seq(*parsed->seq);
  if (parsed->node_rpc_mtls_required)
    out.set_node_rpc_mtls_required(*parsed->node_rpc_mtls_required);
  if (parsed->error) out.set_error(*parsed->error);
  if (parsed->certificate) out.set_certificate(*parsed->certificate);
  if (parsed->ca) out.set_ca(*parsed->ca);
  if (parsed->device_id) out.set_device_id(*parsed->device_id);
  if (parsed->event_json) {
    auto event = nlohmann::json::parse(*parsed->event_json, nullptr, false);
    if (!event.is_object()) {
      return Error(Errc::InvalidArgument, "response frame has an unreadable event object");
    }
    // Each field's type checked first: nlohmann's value() throws on a wrong one.
    auto text = [&](const char* key) -> std::optional<std::string> {
      auto it = event.find(key);
      if (it == event.end()) return std::string();
      if (!it->is_string()) return std::nullopt;
      return it->get<std::string>();
    };
    auto name = text("name");
    auto device_id = text("device_id");
    std::int64_t published_at = 0;
    if (auto it = event.find("published_at_unix_ms"); it != event.end()) {
      if (!it->is_number_integer() ||
          (it->is_number_unsigned() && it->get<std::uint64_t>() > INT64_MAX)) {
        return Error(Errc::InvalidArgument,
                     "response frame's event has a published_at_unix_ms "
                     "that is not a 64-bit integer");
      }
      published_at = it->get<std::int64_t>();
    }
    if (!name || !device_id) {
      return Error(Errc::InvalidArgument,
                   "response frame's event has a name or device_id that is not a string");
    }
    auto* message = out.mutable_event();
    message->set_name(*name);
    message->set_payload_json(event.contains("payload") ? event["payload"].dump() : "null");
    message->set_device_id(*device_id);
    message->set_published_at_unix_ms(published_at);
  }
  return out;
}

Result<std::string> to_response_frame(const node::v1::NodeResponse& response) {
  const std::string& kind = response.kind();
  if (kind == "health") return runtime::encode_health(response.node_rpc_mtls_required());
  if (kind == "published" && response.has_seq()) return runtime::encode_published(response.seq());
  if (kind == "event" && response.has_seq() && response.has_event()) {
    const auto& e = response.event();
    if (!is_valid_json(e.payload_json())) {
      return Error(Errc::InvalidArgument, "event payload_json is not valid JSON");
    }
    return runtime::encode_event(EventView{response.seq(), e.name(), e.payload_json(),
                                           e.device_id(), e.published_at_unix_ms()});
  }
  if (kind == "certificate" && response.has_certificate() && response.has_ca()) {
    return runtime::encode_certificate(response.certificate(), response.ca());
  }
  if (kind == "enrolled" && response.has_device_id() && response.has_certificate() &&
      response.has_ca()) {
    return runtime::encode_enrolled(response.device_id(), response.certificate(), response.ca());
  }
  if (kind == "error" && response.has_error()) {
    auto error = error_from_wire(response.error());
    if (!error) return Error(Errc::InvalidArgument, "unknown error '" + response.error() + "'");
    std::optional<std::uint64_t> seq;
    if (response.has_seq()) seq = response.seq();
    return runtime::encode_error(*error, seq);
  }
  return Error(Errc::InvalidArgument, "response of kind '" + kind + "' lacks its fields");
}

}  // namespace palyra::fallback
