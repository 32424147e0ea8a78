// A strict one-pass JSON reader for the client's hot path: response
// frames arrive by the hundred thousand per second on an event stream, and
// building a DOM for each (then printing its "event" back to text) cost
// three quarters of a streaming client's CPU. It reads RFC 8259 JSON — UTF-8
// checked, no trailing commas, no leading zeros — and hands back values or
// the exact text span of a value, nothing more; it allocates only for the
// strings it decodes (and to range-check a number with an exponent).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace palyra::runtime {

class JsonScanner {
 public:
  // Containers nest at most `max_depth` deep (capped at kMaxDepth).
  static constexpr int kMaxDepth = 128;
  JsonScanner(std::string_view text, int max_depth) noexcept
      : text_(text), max_depth_(max_depth < kMaxDepth ? max_depth : kMaxDepth) {}

  // The next non-whitespace byte without consuming it; nullopt at the end.
  std::optional<char> peek();
  // Consumes `c` (after whitespace) if it is next.
  bool consume(char c);
  bool at_end();

  // Each returns false, consuming an unknown amount, when the next value is
  // not of that type or not valid JSON.
  bool read_string(std::string& out);
  bool read_bool(bool& out);
  // A non-negative integer that fits in 64 bits: "12" (and "-0"), not "-1",
  // "1.0" or "1e3". A valid number of another form is skipped and gives nullopt in
  // `out`, as a DOM reader would give a number of another type.
  bool read_u64(std::optional<std::uint64_t>& out);
  // Any value, validated; `span` is its exact text.
  bool skip_value(std::string_view* span = nullptr);

 private:
  void skip_whitespace() noexcept;
  bool skip_string(std::string* decoded);
  bool skip_number(bool* is_plain_integer);
  bool skip_literal(std::string_view word);
  bool read_hex4(std::uint32_t& out);

  std::string_view text_;
  std::size_t pos_ = 0;
  int max_depth_;
};

}  // namespace palyra::runtime
