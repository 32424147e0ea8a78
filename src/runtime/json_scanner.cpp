#include "json_scanner.hpp"

#include <locale.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace palyra::runtime {
namespace {

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  }
}

// Length of the well-formed UTF-8 sequence starting at text[0] (a byte
// >= 0x80), or 0: no overlongs, no surrogates, nothing above U+10FFFF.
std::size_t utf8_sequence_length(std::string_view text) noexcept {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  auto continuation = [&](std::size_t i) { return i < text.size() && (byte(i) & 0xc0) == 0x80; };
  const unsigned char lead = byte(0);
  if (lead >= 0xc2 && lead <= 0xdf) return continuation(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (lead == 0xe0 && byte(1) < 0xa0) return 0;  // overlong
    if (lead == 0xed && byte(1) > 0x9f) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xf0 && byte(1) < 0x90) return 0;  // overlong
    if (lead == 0xf4 && byte(1) > 0x8f) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// strtod in the "C" locale whatever the process's locale: "1.5" must not
// depend on LC_NUMERIC.
bool is_finite_double(std::string_view lexeme) {
  static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", nullptr);
  const std::string copy(lexeme);  // strtod needs the terminating NUL
  return std::isfinite(strtod_l(copy.c_str(), nullptr, c_locale));
}

}  // namespace

void JsonScanner::skip_whitespace() noexcept {
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
    ++pos_;
  }
}

std::optional<char> JsonScanner::peek() {
  skip_whitespace();
  if (pos_ >= text_.size()) return std::nullopt;
  return text_[pos_];
}

bool JsonScanner::consume(char c) {
  if (peek() != c) return false;
  ++pos_;
  return true;
}

bool JsonScanner::at_end() {
  skip_whitespace();
  return pos_ >= text_.size();
}

bool JsonScanner::read_hex4(std::uint32_t& out) {
  if (text_.size() - pos_ < 4) return false;
  out = 0;
  for (int i = 0; i < 4; ++i) {
    const char c = text_[pos_++];
    out <<= 4;
    if (is_digit(c)) {
      out |= static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      out |= static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      out |= static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
  }
  return true;
}

// At the opening quote. Decodes into `decoded` when given.
bool JsonScanner::skip_string(std::string* decoded) {
  if (pos_ >= text_.size() || text_[pos_] != '"') return false;
  ++pos_;
  while (pos_ < text_.size()) {
    // Runs of plain characters are copied at once.
    const std::size_t run_start = pos_;
    while (pos_ < text_.size()) {
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
      ++pos_;
    }
    if (decoded != nullptr) decoded->append(text_.substr(run_start, pos_ - run_start));
    if (pos_ >= text_.size()) return false;
    const auto c = static_cast<unsigned char>(text_[pos_]);
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (c < 0x20) return false;  // control characters must be escaped
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text_.substr(pos_));
      if (length == 0) return false;
      if (decoded != nullptr) decoded->append(text_.substr(pos_, length));
      pos_ += length;
      continue;
    }
    // A backslash escape.
    if (++pos_ >= text_.size()) return false;
    const char escape = text_[pos_++];
    char plain = 0;
    switch (escape) {
      case '"':
        plain = '"';
        break;
      case '\\':
        plain = '\\';
        break;
      case '/':
        plain = '/';
        break;
      case 'b':
        plain = '\b';
        break;
      case 'f':
        plain = '\f';
        break;
      case 'n':
        plain = '\n';
        break;
      case 'r':
        plain = '\r';
        break;
      case 't':
        plain = '\t';
        break;
      case 'u': {
        std::uint32_t unit = 0;
        if (!read_hex4(unit)) return false;
        if (unit >= 0xdc00 && unit <= 0xdfff) return false;  // a lone low surrogate
        if (unit >= 0xd800 && unit <= 0xdbff) {
          std::uint32_t low = 0;
          if (text_.substr(pos_, 2) != "\\u") return false;
          pos_ += 2;
          if (!read_hex4(low) || low < 0xdc00 || low > 0xdfff) return false;
          unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
        }
        if (decoded != nullptr) append_utf8(*decoded, unit);
        continue;
      }
      default:
        return false;
    }
    if (decoded != nullptr) decoded->push_back(plain);
  }
  return false;
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool JsonScanner::skip_number(bool* is_plain_integer) {
  const std::size_t start = pos_;
  auto digits = [&] {
    const std::size_t from = pos_;
    while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    return pos_ - from;
  };
  bool negative = false;
  if (pos_ < text_.size() && text_[pos_] == '-') {
    negative = true;
    ++pos_;
  }
  if (pos_ >= text_.size() || !is_digit(text_[pos_])) return false;
  const bool zero = text_[pos_] == '0';
  if (zero) {
    ++pos_;
  } else {
    digits();
  }
  bool plain = !negative || zero;  // "-0" is the integer 0, as a DOM reader has it
  if (pos_ < text_.size() && text_[pos_] == '.') {
    ++pos_;
    if (digits() == 0) return false;
    plain = false;
  }
  bool has_exponent = false;
  if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    has_exponent = true;
    ++pos_;
    if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
    if (digits() == 0) return false;
    plain = false;
  }
  if (is_plain_integer != nullptr) *is_plain_integer = plain && pos_ > start;
  // A number too large for a double (1e999) is not one any reader here can
  // hold: refuse it as a document reader does. Without an exponent that
  // takes more than 300 digits, so only those and exponents are checked.
  const std::string_view lexeme = text_.substr(start, pos_ - start);
  if (has_exponent || lexeme.size() > 300) return is_finite_double(lexeme);
  return true;
}

bool JsonScanner::skip_literal(std::string_view word) {
  if (text_.substr(pos_, word.size()) != word) return false;
  pos_ += word.size();
  return true;
}

bool JsonScanner::read_string(std::string& out) {
  out.clear();
  skip_whitespace();
  return skip_string(&out);
}

bool JsonScanner::read_bool(bool& out) {
  skip_whitespace();
  if (skip_literal("true")) {
    out = true;
    return true;
  }
  if (skip_literal("false")) {
    out = false;
    return true;
  }
  return false;
}

bool JsonScanner::read_u64(std::optional<std::uint64_t>& out) {
  skip_whitespace();
  const std::size_t start = pos_;
  bool plain = false;
  if (!skip_number(&plain)) return false;
  out.reset();
  if (plain && text_[start] == '-') {
    out = 0;  // "-0"
  } else if (plain) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, value);
    if (ec == std::errc() && end == text_.data() + pos_) out = value;
  }
  return true;
}

// Iterative, so nesting costs no stack: `open_stack` holds the containers
// we are inside, up to max_depth_.
bool JsonScanner::skip_value(std::string_view* span) {
  skip_whitespace();
  const std::size_t start = pos_;
  std::array<char, kMaxDepth> open_stack{};
  std::size_t depth = 0;
  bool expect_value = true;
  while (true) {
    skip_whitespace();
    if (pos_ >= text_.size()) return false;
    if (expect_value) {
      const char c = text_[pos_];
      if (c == '{' || c == '[') {
        if (static_cast<int>(depth) >= max_depth_) return false;
        open_stack[depth++] = c;
        ++pos_;
        skip_whitespace();
        const char close = c == '{' ? '}' : ']';
        if (pos_ < text_.size() && text_[pos_] == close) {
          ++pos_;
          --depth;
          expect_value = false;
        } else if (c == '{') {
          if (!skip_string(nullptr) || !consume(':')) return false;
        }
        if (depth == 0 && !expect_value) break;
        continue;
      }
      bool ok = false;
      if (c == '"') {
        ok = skip_string(nullptr);
      } else if (c == 't') {
        ok = skip_literal("true");
      } else if (c == 'f') {
        ok = skip_literal("false");
      } else if (c == 'n') {
        ok = skip_literal("null");
      } else {
        ok = skip_number(nullptr);
      }
      if (!ok) return false;
      expect_value = false;
      if (depth == 0) break;
      continue;
    }
    // After a value inside a container: a comma or the container's end.
    const char c = text_[pos_++];
    const char container = open_stack[depth - 1];
    if (c == ',') {
      if (container == '{') {
        skip_whitespace();
        if (!skip_string(nullptr) || !consume(':')) return false;
      }
      expect_value = true;
    } else if ((c == '}' && container == '{') || (c == ']' && container == '[')) {
      if (--depth == 0) break;
    } else {
      return false;
    }
  }
  if (span != nullptr) *span = text_.substr(start, pos_ - start);
  return true;
}

}  // namespace palyra::runtime
