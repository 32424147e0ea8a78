// The daemon's enrollment tokens (PROTOCOL.md §7) in <state>/tokens.json
// (0600). Only a SHA-256 of each secret is kept: reading the file does not
// let anyone enroll. Every change happens under the StateLock and rewrites
// the file atomically, so `palyra token …` and palyrad can both use it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "palyra/common/result.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/enrollment_token.hpp"
#include "palyra/identity/state_dir.hpp"

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

class TokenStore {
 public:
  explicit TokenStore(StateDir dir) : dir_(std::move(dir)) {}

  // A new token bound to the signing CA (`ca_hash`: its SPKI SHA-256, 64
  // lowercase hex digits). InvalidArgument for uses 0, ttl <= 0 or a bad
  // ca_hash; InvalidDeviceId for a bad device id; IoFailed.
  Result<EnrollmentToken> create(const TokenCreateOptions& options, std::string_view ca_hash,
                                 SystemTime now);
  // Every record, oldest first. A missing file is empty; a corrupt one is
  // IoFailed naming the file and what is wrong.
  Result<std::vector<TokenRecord>> list() const;
  // NotFound naming the id. Revoking twice is fine.
  Status revoke(std::string_view id);
  // The daemon's check, under the StateLock: finds the record, compares the
  // secret's hash in constant time, refuses a revoked, expired or used-up
  // token, then decrements uses_left and writes the file (fsync'd, atomic)
  // before returning the updated record. Of concurrent consumers of a
  // one-use token (threads or processes) exactly one succeeds.
  // A refusal is InvalidArgument whose message states the precise reason
  // (unknown id, wrong secret, expired, used up, revoked) for the daemon's
  // log; what the network hears is the caller's business. IoFailed.
  // `accept`, if given, runs under the lock once the token is known to be
  // valid and before its use is taken; an error from it refuses the token
  // (its message becomes the reason) without using it up. It must not take
  // the StateLock itself (the lock is not reentrant).
  Result<TokenRecord> consume(const PresentedToken& token, SystemTime now,
                              const std::function<Status(const TokenRecord&)>& accept = {});

 private:
  StateDir dir_;
};

}  // namespace palyra::identity
