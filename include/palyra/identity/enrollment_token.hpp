// Enrollment tokens (PROTOCOL.md §7): `<id>.<secret>.<ca-hash>`, id 8 and
// secret 32 lowercase hex digits (128 random bits), ca-hash the 64-digit
// SHA-256 of the gateway CA's SubjectPublicKeyInfo. The secret is a
// credential: no error message ever contains it.
#pragma once

#include <string>
#include <string_view>

#include "palyra/common/result.hpp"

namespace palyra::identity {

inline constexpr std::size_t kTokenIdHexLength = 8;
inline constexpr std::size_t kTokenSecretHexLength = 32;
inline constexpr std::size_t kTokenCaHashHexLength = 64;

struct EnrollmentToken {
  std::string id;
  std::string secret;
  std::string ca_hash;
  std::string text() const { return id + "." + secret + "." + ca_hash; }
};

// What a node presents in node.enroll: "<id>.<secret>" (no ca-hash).
struct PresentedToken {
  std::string id;
  std::string secret;
};

// Strict parse of the full token (what `palyra enroll` is given); only
// surrounding whitespace is forgiven. InvalidArgument naming the part that
// is wrong.
Result<EnrollmentToken> parse_enrollment_token(std::string_view text);
// Strict parse of "<id>.<secret>". InvalidArgument naming the part.
Result<PresentedToken> parse_presented_token(std::string_view text);

}  // namespace palyra::identity
