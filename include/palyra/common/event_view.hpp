// One journal event seen in place, without owning its bytes: what the
// journal hands a reader and what the protocol encoders take. Valid only as
// long as whatever it was taken from (a visit callback, a message).
#pragma once

#include <cstdint>
#include <string_view>

namespace palyra {

struct EventView {
  std::uint64_t seq = 0;
  std::string_view name;
  std::string_view payload_json;  // already-validated compact JSON, embedded as is
  std::string_view device_id;
  std::int64_t published_at_unix_ms = 0;
};

}  // namespace palyra
