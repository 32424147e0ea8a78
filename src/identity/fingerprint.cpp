#include "palyra/identity/fingerprint.hpp"

#include <fmt/format.h>
#include <gnutls/crypto.h>

#include <array>
#include <cctype>

namespace palyra::identity {

std::string lower_hex(std::span<const unsigned char> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xf]);
  }
  return out;
}

std::string sha256_fingerprint(std::span<const unsigned char> der) {
  std::array<unsigned char, 32> digest{};
  gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data(), der.size(), digest.data());
  return lower_hex(digest);
}

Result<std::string> normalize_fingerprint(std::string_view text) {
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.empty()) {
    return Error(Errc::InvalidArgument, "a fingerprint must not be empty");
  }
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return Error(Errc::InvalidArgument,
                   fmt::format("'{}' is not a SHA-256 fingerprint (64 hex digits)", text));
    }
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (out.size() != kFingerprintHexLength) {
    return Error(
        Errc::InvalidArgument,
        fmt::format("a SHA-256 fingerprint has 64 hex digits, '{}' has {}", text, out.size()));
  }
  return out;
}

}  // namespace palyra::identity
