// The client's one-pass response reader against a JSON document reading of
// the same bytes (nlohmann, the reader it replaced): on any input they must
// agree on whether it is a response and on every field, and the event text
// must be the same JSON value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "palyra/runtime/protocol.hpp"

namespace {

using Json = nlohmann::json;

struct Reference {
  std::string kind;
  bool ok = false;
  std::optional<std::uint64_t> seq;
  std::optional<bool> node_rpc_mtls_required;
  std::optional<std::string> error;
  std::optional<Json> event;
};

std::optional<Reference> reference_read(std::string_view frame) {
  Json json = Json::parse(frame.begin(), frame.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;
  auto kind = json.find("kind");
  auto ok = json.find("ok");
  if (kind == json.end() || !kind->is_string() || ok == json.end() || !ok->is_boolean())
    return std::nullopt;
  Reference r;
  r.kind = kind->get<std::string>();
  r.ok = ok->get<bool>();
  if (auto it = json.find("seq"); it != json.end()) {
    if (it->is_number_unsigned()) r.seq = it->get<std::uint64_t>();
    if (it->is_number_integer() && it->get<std::int64_t>() >= 0) r.seq = it->get<std::uint64_t>();
  }
  if (auto it = json.find("node_rpc_mtls_required"); it != json.end() && it->is_boolean()) {
    r.node_rpc_mtls_required = it->get<bool>();
  }
  if (auto it = json.find("error"); it != json.end() && it->is_string())
    r.error = it->get<std::string>();
  if (auto it = json.find("event"); it != json.end()) r.event = *it;
  return r;
}

// Deepest nesting of brackets outside strings: the document reader has no
// depth limit, ours refuses beyond kMaxJsonDepth.
int nesting_of(std::string_view text) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view frame(reinterpret_cast<const char*>(data), size);
  auto ours = palyra::runtime::parse_response(frame);
  // Where the two readers are allowed to differ: a byte-order mark (the
  // document reader skips one), a NUL byte (it takes one as the end of the
  // input; to us it is not JSON) and nesting past our limit.
  if (frame.starts_with("\xef\xbb\xbf") || frame.find('\0') != std::string_view::npos ||
      nesting_of(frame) > palyra::runtime::kMaxJsonDepth) {
    return 0;
  }
  auto reference = reference_read(frame);
  if (ours.ok() != reference.has_value()) std::abort();
  if (!reference) return 0;
  if (ours->kind != reference->kind || ours->ok != reference->ok || ours->seq != reference->seq ||
      ours->node_rpc_mtls_required != reference->node_rpc_mtls_required ||
      ours->error != reference->error ||
      ours->event_json.has_value() != reference->event.has_value()) {
    std::abort();
  }
  if (ours->event_json) {
    Json event = Json::parse(*ours->event_json, nullptr, /*allow_exceptions=*/false);
    if (event.is_discarded() || event != *reference->event) std::abort();
  }
  return 0;
}
