// Where a gateway's enrollment tokens (PROTOCOL.md §7) live, behind one
// interface with two implementations:
// - FileTokenStore: <state>/tokens.json (0600) of one gateway; every change
//   happens under the StateLock and rewrites the file atomically, so
//   `palyra token …` and palyrad can both use it;
// - the cluster's key-value bucket (palyra/cluster/shared_state.hpp), which
//   every gateway of a cluster consumes from with compare-and-set.
// Only a SHA-256 of each secret is kept: reading the store does not let
// anyone enroll.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "palyra/common/result.hpp"
#include "palyra/identity/state_dir.hpp"
#include "palyra/identity/token_record.hpp"

namespace palyra::identity {

class TokenStore {
 public:
  virtual ~TokenStore() = default;

  // A new token bound to the signing CA (see make_token for the checks).
  // IoFailed (file) or StorageFailed (cluster).
  virtual Result<EnrollmentToken> create(const TokenCreateOptions& options,
                                         std::string_view ca_hash, SystemTime now) = 0;
  // Every record, oldest first. An empty store is empty; a corrupt record is
  // IoFailed naming where it is and what is wrong.
  virtual Result<std::vector<TokenRecord>> list() = 0;
  // NotFound naming the id. Revoking twice is fine.
  virtual Status revoke(std::string_view id) = 0;
  // The daemon's check: finds the record, takes one use by take_token_use's
  // rules and stores the record durably before returning it. Of concurrent
  // consumers of a one-use token (threads, processes, gateways sharing the
  // store) exactly one succeeds. A refusal is InvalidArgument stating the
  // precise reason (unknown id, wrong secret, expired, used up, revoked) for
  // the daemon's log; what the network hears is the caller's business.
  // `accept` runs once the token is known to be valid, before its use is
  // taken (it may run again if another consumer raced this one); it must not
  // take the StateLock itself.
  virtual Result<TokenRecord> consume(
      const PresentedToken& token, SystemTime now,
      const std::function<Status(const TokenRecord&)>& accept = {}) = 0;
};

class FileTokenStore final : public TokenStore {
 public:
  explicit FileTokenStore(StateDir dir) : dir_(std::move(dir)) {}

  Result<EnrollmentToken> create(const TokenCreateOptions& options, std::string_view ca_hash,
                                 SystemTime now) override;
  // The file is only ever replaced whole (rename), so reading needs no lock.
  Result<std::vector<TokenRecord>> list() override;
  Status revoke(std::string_view id) override;
  // Under the StateLock; the file is written (fsync'd, atomic) before the
  // answer: a crash can lose a certificate, never give a token a second use.
  Result<TokenRecord> consume(
      const PresentedToken& token, SystemTime now,
      const std::function<Status(const TokenRecord&)>& accept = {}) override;

 private:
  StateDir dir_;
};

}  // namespace palyra::identity
