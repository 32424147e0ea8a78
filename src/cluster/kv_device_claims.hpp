// Device-id claims in the cluster's key-value bucket PALYRA_DEVICES
// (identity::DeviceClaims): key the device id with each '.' written '=',
// value the claim as JSON:
//   {"device_id", "fingerprint", "not_after_unix", "claimed_at_unix", "holder"}
// A claim names the device's certificate (fingerprint, not_after_unix) once
// one is issued; before that it is an enrollment's, "holder" a random id of
// that enrollment and "fingerprint" empty. A claim holds the id while its
// certificate is unexpired and not in PALYRA_REVOKED, or, an enrollment's,
// for kPendingClaimLifetime after it was taken. Whatever no longer holds is
// taken over with compare-and-set on the revision, like any change.
//
// Why a bucket of its own rather than keys in PALYRA_LEDGER: the ledger is
// one key per certificate, read whole by SharedState::ledger() and by
// operators with `nats kv` tools; a second kind of key there would have to
// be told apart and skipped by every reader. Here each device id is one key,
// so "who holds this id" is one read and one compare-and-set.
//
// Why '.' is rewritten: a key is a NATS subject token sequence
// ($KV.PALYRA_DEVICES.<key>), so the library refuses a key that starts or
// ends with '.', and ".." would make an empty token; device ids may have all
// three. '=' is a valid key character that no device id contains, so the
// mapping is one to one.
#pragma once

#include <chrono>
#include <string>

#include "kv_bucket.hpp"
#include "palyra/identity/device_claims.hpp"

namespace palyra::cluster {

// How long an enrollment's claim holds the id without a certificate: enough
// for the token's compare-and-set and the signing (milliseconds), so a
// gateway that died in between locks the id out for this long at most.
inline constexpr std::chrono::seconds kPendingClaimLifetime{60};

// The bucket key of a device id.
std::string device_claim_key(std::string_view device_id);

class KvDeviceClaims final : public identity::DeviceClaims {
 public:
  // `devices`: PALYRA_DEVICES; `revoked`: PALYRA_REVOKED (read only).
  KvDeviceClaims(KvBucket devices, KvBucket revoked)
      : devices_(std::move(devices)), revoked_(std::move(revoked)) {}

  Result<std::unique_ptr<identity::DeviceClaim>> claim(std::string_view device_id, bool replace,
                                                       identity::SystemTime now) override;
  Status keep(const identity::LedgerEntry& certificate, identity::SystemTime now) override;

  struct Record {
    std::string device_id;
    std::string fingerprint;  // empty: an enrollment's claim, no certificate yet
    std::int64_t not_after_unix = 0;
    std::int64_t claimed_at_unix = 0;
    std::string holder;  // the enrollment's id while fingerprint is empty
  };
  struct Found {
    Record record;
    std::string value;  // as stored
    std::uint64_t revision = 0;
  };
  // The claim of `device_id`, nullopt when there is none.
  Result<std::optional<Found>> find(std::string_view device_id);
  // Whether the record still holds its id at `now_unix` (reads PALYRA_REVOKED).
  Result<bool> holds(const Record& record, std::int64_t now_unix);
  KvBucket& bucket() noexcept { return devices_; }

 private:
  KvBucket devices_;
  KvBucket revoked_;
};

}  // namespace palyra::cluster
