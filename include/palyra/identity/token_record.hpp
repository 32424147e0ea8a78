// One enrollment token's record as every token store keeps it (the state
// directory's tokens.json, the cluster's key-value bucket): what a new token
// is, the rules of taking a use, and the record's JSON. Only a SHA-256 of
// the secret is ever stored.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "palyra/common/result.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/enrollment_token.hpp"

namespace palyra::identity {

struct TokenRecord {
  std::string id;
  std::string secret_sha256;  // lowercase hex SHA-256 of the secret's text
  std::int64_t created_unix = 0;
  std::int64_t expires_unix = 0;
  std::uint32_t uses_left = 0;
  std::optional<std::string> device_id;  // the only device id it may enroll
  bool revoked = false;
};

struct TokenCreateOptions {
  std::chrono::seconds ttl{900};
  std::uint32_t uses = 1;
  std::optional<std::string> device_id;
};

// How long a record that can no longer be used (expired, used up, revoked)
// stays listed: `palyra token list` can still say what became of it.
inline constexpr std::chrono::seconds kTokenRecordRetention = std::chrono::hours(24);

struct NewToken {
  EnrollmentToken token;  // what the operator is shown, once
  TokenRecord record;     // what the store keeps
};

// A fresh random id and secret bound to the signing CA (`ca_hash`: its SPKI
// SHA-256, 64 lowercase hex digits). InvalidArgument for uses 0, ttl <= 0 or
// a bad ca_hash; InvalidDeviceId for a bad device id. A store whose id is
// taken asks again.
Result<NewToken> make_token(const TokenCreateOptions& options, std::string_view ca_hash,
                            SystemTime now);

// The check every store's consume() makes on the record it found: the
// secret's hash compared in constant time; a revoked, expired or used-up
// token refused; then `accept` (if given), whose error refuses the token
// without using it up. Returns the record with one use fewer, for the store
// to write. A refusal is InvalidArgument stating the precise reason.
Result<TokenRecord> take_token_use(TokenRecord record, const PresentedToken& token, SystemTime now,
                                   const std::function<Status(const TokenRecord&)>& accept);
// InvalidArgument "enrollment token <id>: <why>", the form of every refusal.
Error token_refused(std::string_view id, std::string_view why);

bool token_usable(const TokenRecord& record, std::int64_t now_unix);
// Unusable for longer than kTokenRecordRetention: a store may drop it.
bool token_prunable(const TokenRecord& record, std::int64_t now_unix);

// One record as a JSON object, and back: every field's type and value
// checked (IoFailed naming `origin` and what is wrong).
std::string token_record_json(const TokenRecord& record);
Result<TokenRecord> parse_token_record(std::string_view json, std::string_view origin);

}  // namespace palyra::identity
