// Certificate fingerprints (PROTOCOL.md §2): lowercase hex SHA-256 of the DER.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "palyra/common/result.hpp"

namespace palyra::identity {

inline constexpr std::size_t kFingerprintHexLength = 64;

std::string sha256_fingerprint(std::span<const unsigned char> der);
// Lowercase hex of some bytes (two digits each).
std::string lower_hex(std::span<const unsigned char> bytes);

// Trims surrounding whitespace and lowercases; InvalidArgument unless the
// result is exactly 64 hex digits. Used for pins and revocation input.
Result<std::string> normalize_fingerprint(std::string_view text);

}  // namespace palyra::identity
