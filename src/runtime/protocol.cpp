#include "palyra/runtime/protocol.hpp"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "json_scanner.hpp"

namespace palyra::runtime {
namespace {

using Json = nlohmann::json;

RequestError invalid(ProtocolError kind, std::string detail) {
  return {kind, std::move(detail)};
}

// Parses strictly: duplicate keys at any depth and nesting deeper than
// kMaxJsonDepth are refused (nlohmann would keep the last duplicate).
std::optional<Json> parse_strict(std::string_view text, std::string& why) {
  std::vector<std::set<std::string>> keys;
  bool duplicate = false;
  bool too_deep = false;
  Json::parser_callback_t callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth > kMaxJsonDepth) too_deep = true;
    switch (event) {
      case Json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second)
          duplicate = true;
        break;
      default:
        break;
    }
    return true;
  };
  Json json = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    why = "not valid JSON";
    return std::nullopt;
  }
  if (duplicate) {
    why = "duplicate key";
    return std::nullopt;
  }
  if (too_deep) {
    why = fmt::format("nested deeper than {}", kMaxJsonDepth);
    return std::nullopt;
  }
  return json;
}

std::optional<std::uint64_t> as_u64(const Json& j) {
  if (j.is_number_unsigned()) return j.get<std::uint64_t>();
  if (j.is_number_integer() && j.get<std::int64_t>() >= 0)
    return static_cast<std::uint64_t>(j.get<std::int64_t>());
  return std::nullopt;
}

void append_number(std::string& out, std::uint64_t n) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, n);
  out.append(buffer, end);
}

void append_signed(std::string& out, std::int64_t n) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, n);
  out.append(buffer, end);
}

constexpr std::string_view kPrefix = R"({"protocol_version":1,"kind":")";

}  // namespace

std::string_view wire_name(ProtocolError error) noexcept {
  switch (error) {
    case ProtocolError::InvalidRequest:
      return "invalid_request";
    case ProtocolError::ProtocolMismatch:
      return "protocol_mismatch";
    case ProtocolError::UnsupportedMethod:
      return "unsupported_method";
    case ProtocolError::InvalidParams:
      return "invalid_params";
    case ProtocolError::ResumeGap:
      return "resume_gap";
    case ProtocolError::EnrollRefused:
      return "enroll_refused";
    case ProtocolError::RenewalRefused:
      return "renewal_refused";
    case ProtocolError::StreamFailure:
      return "stream_failure";
  }
  return "stream_failure";
}

std::variant<Request, RequestError> parse_request(std::string_view frame) {
  std::string why;
  auto parsed = parse_strict(frame, why);
  if (!parsed) return invalid(ProtocolError::InvalidRequest, why);
  const Json& root = *parsed;
  if (!root.is_object()) return invalid(ProtocolError::InvalidRequest, "not a JSON object");
  for (const auto& item : root.items()) {
    const std::string& key = item.key();
    if (key != "protocol_version" && key != "method" && key != "resume_from" && key != "params") {
      return invalid(ProtocolError::InvalidRequest, fmt::format("unknown field '{}'", key));
    }
  }
  auto version_it = root.find("protocol_version");
  if (version_it == root.end())
    return invalid(ProtocolError::InvalidRequest, "missing protocol_version");
  auto version = as_u64(*version_it);
  if (!version || *version > 0xffff) {
    return invalid(ProtocolError::InvalidRequest, "protocol_version is not a u16 integer");
  }
  auto method_it = root.find("method");
  if (method_it == root.end() || !method_it->is_string()) {
    return invalid(ProtocolError::InvalidRequest, "method must be a string");
  }
  Request request;
  if (auto it = root.find("resume_from"); it != root.end() && !it->is_null()) {
    auto resume = as_u64(*it);
    if (!resume) return invalid(ProtocolError::InvalidRequest, "resume_from is not a u64 or null");
    request.resume_from = *resume;
  }
  const Json* params = nullptr;
  if (auto it = root.find("params"); it != root.end()) {
    if (!it->is_object()) return invalid(ProtocolError::InvalidRequest, "params is not an object");
    params = &*it;
  }
  if (*version != kProtocolVersion) {
    return invalid(ProtocolError::ProtocolMismatch, fmt::format("protocol_version {}", *version));
  }
  const std::string& method = method_it->get_ref<const std::string&>();
  if (method == "node.health") {
    request.method = Method::Health;
    if (params != nullptr && !params->empty()) {
      return invalid(ProtocolError::InvalidParams, "node.health takes no params");
    }
  } else if (method == "node.stream_events") {
    request.method = Method::StreamEvents;
    if (params != nullptr) {
      for (const auto& item : params->items()) {
        if (item.key() != "follow" || !item.value().is_boolean()) {
          return invalid(ProtocolError::InvalidParams,
                         "node.stream_events takes only follow: bool");
        }
        request.follow = item.value().get<bool>();
      }
    }
  } else if (method == "node.publish_event") {
    request.method = Method::PublishEvent;
    if (params == nullptr)
      return invalid(ProtocolError::InvalidParams, "node.publish_event needs params");
    auto name = params->find("name");
    auto payload = params->find("payload");
    auto id = params->find("id");
    const std::size_t fields = id == params->end() ? 2 : 3;
    if (params->size() != fields || name == params->end() || payload == params->end()) {
      return invalid(ProtocolError::InvalidParams, "params must be {name, payload} and maybe id");
    }
    if (!name->is_string() || name->get_ref<const std::string&>().empty() ||
        name->get_ref<const std::string&>().size() > kMaxEventNameBytes) {
      return invalid(ProtocolError::InvalidParams,
                     "name must be a non-empty string of at most 128 bytes");
    }
    if (id != params->end()) {
      if (!id->is_string() || id->get_ref<const std::string&>().empty() ||
          id->get_ref<const std::string&>().size() > kMaxPublishIdBytes) {
        return invalid(ProtocolError::InvalidParams, "id must be a string of 1 to 64 bytes");
      }
      request.publish_id = id->get<std::string>();
    }
    request.event_name = name->get<std::string>();
    request.event_payload_json = payload->dump();
  } else if (method == "node.enroll") {
    request.method = Method::Enroll;
    if (params == nullptr) return invalid(ProtocolError::InvalidParams, "node.enroll needs params");
    for (const auto& item : params->items()) {
      const std::string& key = item.key();
      if (key == "token" && item.value().is_string()) {
        request.token = item.value().get<std::string>();
      } else if (key == "csr" && item.value().is_string()) {
        request.csr_pem = item.value().get<std::string>();
      } else if (key == "device_id" && item.value().is_string()) {
        request.device_id = item.value().get<std::string>();
      } else {
        return invalid(ProtocolError::InvalidParams,
                       "node.enroll takes token, csr (strings) and an optional device_id");
      }
    }
    if (request.token.empty() || request.csr_pem.empty()) {
      return invalid(ProtocolError::InvalidParams, "node.enroll needs token and csr");
    }
    if (request.csr_pem.size() > kMaxCsrBytes) {
      return invalid(ProtocolError::InvalidParams, "csr larger than 16 KiB");
    }
  } else if (method == "node.renew_certificate") {
    request.method = Method::RenewCertificate;
    auto csr = params != nullptr ? params->find("csr") : Json::const_iterator{};
    if (params == nullptr || params->size() != 1 || csr == params->end() || !csr->is_string() ||
        csr->get_ref<const std::string&>().empty()) {
      return invalid(ProtocolError::InvalidParams, "node.renew_certificate takes exactly {csr}");
    }
    request.csr_pem = csr->get<std::string>();
    if (request.csr_pem.size() > kMaxCsrBytes) {
      return invalid(ProtocolError::InvalidParams, "csr larger than 16 KiB");
    }
  } else {
    return invalid(ProtocolError::UnsupportedMethod, fmt::format("method '{}'", method));
  }
  return request;
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  // Names and device ids almost never need escaping: copy runs of plain
  // bytes whole instead of one push_back each.
  auto plain = [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && c != '"' && c != '\\';
  };
  while (!text.empty() && plain(text.front())) {
    std::size_t run = 1;
    while (run < text.size() && plain(text[run])) ++run;
    out.append(text.substr(0, run));
    text.remove_prefix(run);
  }
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out.push_back(kHex[u >> 4]);
          out.push_back(kHex[u & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string encode_health(bool mtls_required) {
  std::string out(kPrefix);
  out += mtls_required ? R"(health","ok":true,"node_rpc_mtls_required":true})"
                       : R"(health","ok":true,"node_rpc_mtls_required":false})";
  return out;
}

namespace {

void append_event_json(std::string& out, const EventView& event) {
  using namespace std::string_view_literals;
  out += kPrefix;
  out += R"(event","ok":true,"seq":)"sv;
  append_number(out, event.seq);
  out += R"(,"event":{"name":)"sv;
  append_json_string(out, event.name);
  out += R"(,"payload":)"sv;
  out += event.payload_json;
  out += R"(,"device_id":)"sv;
  append_json_string(out, event.device_id);
  out += R"(,"published_at_unix_ms":)"sv;
  append_signed(out, event.published_at_unix_ms);
  out += "}}"sv;
}

}  // namespace

std::string encode_event(const EventView& event) {
  std::string out;
  out.reserve(128 + event.name.size() + event.payload_json.size() + event.device_id.size());
  append_event_json(out, event);
  return out;
}

void append_event_frame(std::string& out, const EventView& event) {
  const std::size_t prefix_at = out.size();
  out.append(4, '\0');  // PROTOCOL.md §3: u32 big-endian length, patched below
  append_event_json(out, event);
  const auto length = static_cast<std::uint32_t>(out.size() - prefix_at - 4);
  for (int i = 0; i < 4; ++i) {
    out[prefix_at + static_cast<std::size_t>(i)] = static_cast<char>(length >> (24 - 8 * i));
  }
}

std::string encode_published(std::uint64_t seq) {
  std::string out(kPrefix);
  out += R"(published","ok":true,"seq":)";
  append_number(out, seq);
  out += '}';
  return out;
}

std::string encode_enrolled(std::string_view device_id, std::string_view certificate_pem,
                            std::string_view ca_pem) {
  std::string out(kPrefix);
  out += R"(enrolled","ok":true,"device_id":)";
  append_json_string(out, device_id);
  out += R"(,"certificate":)";
  append_json_string(out, certificate_pem);
  out += R"(,"ca":)";
  append_json_string(out, ca_pem);
  out += '}';
  return out;
}

std::string encode_certificate(std::string_view certificate_pem, std::string_view ca_pem) {
  std::string out(kPrefix);
  out += R"(certificate","ok":true,"certificate":)";
  append_json_string(out, certificate_pem);
  out += R"(,"ca":)";
  append_json_string(out, ca_pem);
  out += '}';
  return out;
}

std::string encode_error(ProtocolError error, std::optional<std::uint64_t> seq) {
  std::string out(kPrefix);
  out += R"(error","ok":false,)";
  if (seq) {
    out += R"("seq":)";
    append_number(out, *seq);
    out += ',';
  }
  out += R"("error":")";
  out += wire_name(error);
  out += "\"}";
  return out;
}

std::string encode_health_request() {
  return R"({"protocol_version":1,"method":"node.health"})";
}

std::string encode_stream_events_request(std::optional<std::uint64_t> resume_from, bool follow) {
  std::string out = R"({"protocol_version":1,"method":"node.stream_events")";
  if (resume_from) {
    out += R"(,"resume_from":)";
    append_number(out, *resume_from);
  }
  if (follow) out += R"(,"params":{"follow":true})";
  out += '}';
  return out;
}

std::string encode_publish_request(std::string_view name, std::string_view payload_json,
                                   std::optional<std::string_view> publish_id) {
  std::string out = R"({"protocol_version":1,"method":"node.publish_event","params":{"name":)";
  append_json_string(out, name);
  out += R"(,"payload":)";
  out += payload_json;
  if (publish_id) {
    out += R"(,"id":)";
    append_json_string(out, *publish_id);
  }
  out += "}}";
  return out;
}

std::string encode_enroll_request(std::string_view token, std::string_view csr_pem,
                                  const std::optional<std::string>& device_id) {
  std::string out = R"({"protocol_version":1,"method":"node.enroll","params":{"token":)";
  append_json_string(out, token);
  out += R"(,"csr":)";
  append_json_string(out, csr_pem);
  if (device_id) {
    out += R"(,"device_id":)";
    append_json_string(out, *device_id);
  }
  out += "}}";
  return out;
}

std::string encode_renew_request(std::string_view csr_pem) {
  std::string out = R"({"protocol_version":1,"method":"node.renew_certificate","params":{"csr":)";
  append_json_string(out, csr_pem);
  out += "}}";
  return out;
}

Result<Response> parse_response(std::string_view frame) {
  // Read in one pass, without a DOM: a streaming client parses every event
  // frame. As in a DOM, the last of duplicate keys counts, and a field of
  // the wrong type counts as absent.
  JsonScanner in(frame, kMaxJsonDepth);
  auto read_string = [&in](std::optional<std::string>& field) {
    if (in.peek() != '"') {
      field.reset();
      return in.skip_value();
    }
    field.emplace();
    return in.read_string(*field);
  };
  auto read_bool = [&in](std::optional<bool>& field) {
    const std::optional<char> next = in.peek();
    if (next != 't' && next != 'f') {
      field.reset();
      return in.skip_value();
    }
    field.emplace();
    return in.read_bool(*field);
  };
  auto read_u64 = [&in](std::optional<std::uint64_t>& field) {
    const std::optional<char> next = in.peek();
    field.reset();
    if (next != '-' && !(next >= '0' && next <= '9')) return in.skip_value();
    return in.read_u64(field);
  };
  auto not_an_object = [] {
    return Error(Errc::InvalidArgument, "response frame is not a JSON object");
  };
  Response r;
  std::optional<std::string> kind;
  std::optional<bool> ok;
  std::string key;
  if (!in.consume('{')) return not_an_object();
  if (!in.consume('}')) {
    do {
      if (!in.read_string(key) || !in.consume(':')) return not_an_object();
      bool read = false;
      if (key == "kind") {
        read = read_string(kind);
      } else if (key == "ok") {
        read = read_bool(ok);
      } else if (key == "seq") {
        read = read_u64(r.seq);
      } else if (key == "node_rpc_mtls_required") {
        read = read_bool(r.node_rpc_mtls_required);
      } else if (key == "error") {
        read = read_string(r.error);
      } else if (key == "certificate") {
        read = read_string(r.certificate);
      } else if (key == "ca") {
        read = read_string(r.ca);
      } else if (key == "device_id") {
        read = read_string(r.device_id);
      } else if (key == "event") {
        std::string_view span;
        read = in.skip_value(&span);
        r.event_json = std::string(span);
      } else {
        read = in.skip_value();  // a field this client does not know
      }
      if (!read) return not_an_object();
    } while (in.consume(','));
    if (!in.consume('}')) return not_an_object();
  }
  if (!in.at_end()) return not_an_object();
  if (!kind || !ok)
    return Error(Errc::InvalidArgument, "response frame lacks kind (string) or ok (bool)");
  r.kind = std::move(*kind);
  r.ok = *ok;
  return r;
}

}  // namespace palyra::runtime
