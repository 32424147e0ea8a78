// Enrollment tokens in the cluster's key-value bucket (PALYRA_TOKENS): key
// the token's id, value its TokenRecord as JSON. consume() is a
// compare-and-set on the entry's revision, retried when another gateway
// changed the entry in between: of two gateways consuming a one-use token,
// exactly one succeeds.
#pragma once

#include "kv_bucket.hpp"
#include "palyra/identity/token_store.hpp"

namespace palyra::cluster {

class KvTokenStore final : public identity::TokenStore {
 public:
  explicit KvTokenStore(KvBucket bucket) : bucket_(std::move(bucket)) {}

  // Creates the key only if absent (a taken id draws another); prunes
  // records unusable for longer than kTokenRecordRetention.
  Result<identity::EnrollmentToken> create(const identity::TokenCreateOptions& options,
                                           std::string_view ca_hash,
                                           identity::SystemTime now) override;
  // Oldest first (by creation time, then id).
  Result<std::vector<identity::TokenRecord>> list() override;
  Status revoke(std::string_view id) override;
  Result<identity::TokenRecord> consume(
      const identity::PresentedToken& token, identity::SystemTime now,
      const std::function<Status(const identity::TokenRecord&)>& accept = {}) override;

 private:
  struct Found {
    identity::TokenRecord record;
    std::uint64_t revision = 0;
  };
  // NotFound when the id has no record; IoFailed for a corrupt one.
  Result<Found> find(std::string_view id);
  // Changes the record by `change` with compare-and-set, retrying on a race.
  // `change` may refuse (its error is returned, nothing written).
  Result<identity::TokenRecord> change_record(
      std::string_view id,
      const std::function<Result<identity::TokenRecord>(identity::TokenRecord)>& change);
  void prune(std::int64_t now_unix);

  KvBucket bucket_;
};

}  // namespace palyra::cluster
