// The key types Palyra generates and issues certificates for (PROTOCOL.md
// §2): ECDSA P-256, the default, and Ed25519. One value names a type in
// every place that chooses one: the CA, the server, devices, CSRs.
#pragma once

#include <string_view>

#include "palyra/common/result.hpp"

namespace palyra::identity {

enum class KeyType { P256, Ed25519 };

// P-256 stays the default until measurements say otherwise (docs/BENCHMARKS.md).
inline constexpr KeyType kDefaultKeyType = KeyType::P256;

// "p256" or "ed25519": what --key-type takes and what is printed.
std::string_view key_type_name(KeyType type);

// The inverse of key_type_name (case-insensitive). InvalidArgument naming
// the input and the accepted values for anything else ("rsa", "").
Result<KeyType> parse_key_type(std::string_view text);

}  // namespace palyra::identity
