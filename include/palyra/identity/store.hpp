// Operations on a state directory: what `palyra init`, `palyra ca` and
// `palyra cert` do, and what palyrad needs at start. Each operation issues
// everything in memory first, then writes each file atomically, so bad input
// leaves nothing half-written.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "palyra/common/result.hpp"
#include "palyra/identity/ca.hpp"
#include "palyra/identity/csr.hpp"
#include "palyra/identity/ledger.hpp"
#include "palyra/identity/state_dir.hpp"
#include "palyra/identity/state_lock.hpp"

namespace palyra::identity {

struct WrittenCertificate {
  std::filesystem::path cert;
  std::filesystem::path key;
  std::string fingerprint;
  SystemTime not_after;
};

// A CA rotation (`palyra ca rotate`) overlaps the old and the new CA in three
// steps; each rotate_ca() call advances one stage:
//   None       -> Introduced: a new CA in ca/next.{pem,key}; ca.pem = [current, new].
//                 The current CA still signs; whoever enrolls or renews now
//                 receives both.
//   Introduced -> Promoted:   the new CA signs: ca.key = its key, ca.pem = [new, old],
//                 the server certificate reissued under it with the same
//                 names, the old CA kept as ca/retired.pem.
//   Promoted   -> None:       ca.pem = [new]; the old CA is no longer trusted.
// The stage is read from the files (next.pem: Introduced; else retired.pem:
// Promoted), and each step writes its marker in an order that lets a step
// interrupted by a crash simply be run again.
enum class CaRotationStage { None, Introduced, Promoted };

struct CaRotationStep {
  CaRotationStage now;
  std::string what_happened;  // one or two sentences for the operator
  std::string next_step;      // when to run the next step, and why then
};

class IdentityStore {
 public:
  explicit IdentityStore(StateDir dir) : dir_(std::move(dir)) {}
  const StateDir& dir() const noexcept { return dir_; }

  // AlreadyExists (naming the file) unless `force`. With `force` the new CA
  // replaces the whole trust bundle.
  Result<WrittenCertificate> create_ca(std::string_view name, bool force,
                                       KeyType key_type = kDefaultKeyType);
  // The signing CA (the first certificate of ca.pem, whose key is ca.key).
  // NotFound when there is no CA yet ("run palyra init").
  Result<CertificateAuthority> load_ca() const;
  // The whole trust bundle, ca.pem as it is: what a node is sent at
  // enrollment and renewal. NotFound/IoFailed.
  Result<std::string> ca_bundle_pem() const;
  // SPKI SHA-256 of the signing CA: what enrollment tokens are bound to.
  Result<std::string> signing_ca_spki_sha256() const;
  Result<WrittenCertificate> issue_server(const ServerCertificateRequest& request);
  // Writes to devices/<id>/ unless `out_dir` is given. A key of `key_type`
  // (nullopt: the CA's type).
  Result<WrittenCertificate> issue_device(std::string_view device_id,
                                          std::chrono::seconds valid_for,
                                          const std::optional<std::filesystem::path>& out_dir,
                                          std::optional<KeyType> key_type = std::nullopt);
  // Revokes fingerprints known to the ledger: UnknownFingerprint otherwise.
  // Returns the ledger entries revoked now.
  Result<std::vector<LedgerEntry>> revoke_fingerprints(
      const std::vector<std::string>& fingerprints);
  // Every unrevoked certificate of the device; UnknownFingerprint if none.
  Result<std::vector<LedgerEntry>> revoke_device(std::string_view device_id);
  // Revocations made in a cluster's shared state (`palyra cert revoke
  // --nats-urls`): every fingerprint goes into revoked.txt, and those this
  // ledger holds are marked revoked at `now`. Unlike revoke_fingerprints, a
  // certificate this ledger lacks (another gateway issued it) is no error:
  // it is recorded in revoked.txt only.
  Status record_revocations(const std::vector<std::string>& fingerprints, SystemTime now);
  Result<Ledger> ledger() const { return Ledger::load(dir_.ledger()); }

  // Enrollment and renewal (palyrad): issues a device certificate for the
  // request's key (the node keeps its private key) and records it in the
  // ledger, kind "device". For a Renewal, a device whose newest certificate
  // is revoked is refused (DeviceRevoked), checked under the same lock as the
  // issue, so a `palyra cert revoke --device` cannot slip in between.
  // InvalidDeviceId, InvalidArgument, NotFound (no CA).
  enum class Issue { Enrollment, Renewal };
  Result<Certificate> issue_device_for_key(const CertificateRequest& request,
                                           std::string_view device_id,
                                           std::chrono::seconds valid_for, SystemTime now,
                                           Issue purpose = Issue::Enrollment);
  // True when the ledger has an unrevoked, unexpired device certificate with this id.
  Result<bool> device_in_use(std::string_view device_id, SystemTime now) const;
  // True when the device's newest certificate in the ledger is revoked (so
  // also when all of them are): revoke_device revoked the id. False for an
  // id the ledger has never seen.
  Result<bool> device_revoked(std::string_view device_id) const;

  // Advances a CA rotation by one stage (see CaRotationStage). `new_name` and
  // `key_type` are the new CA's common name and key type (used by the first
  // step only; nullopt keeps the current CA's type: a rotation is also how a
  // gateway moves from one key type to the other); device_validity says how
  // long to wait before the next step. NotFound without a CA.
  Result<CaRotationStep> rotate_ca(std::string_view new_name, std::chrono::seconds device_validity,
                                   std::optional<KeyType> key_type = std::nullopt);
  Result<CaRotationStage> ca_rotation_stage() const;

 private:
  // Every read-modify-write of the ledger holds the StateLock; the private
  // helpers take it as a parameter to say their caller holds it.
  Result<std::vector<LedgerEntry>> revoke_fingerprints(
      const StateLock& lock, const std::vector<std::string>& fingerprints);
  Result<WrittenCertificate> write_pair(const StateLock& lock, const IssuedCertificate& issued,
                                        const std::filesystem::path& cert,
                                        const std::filesystem::path& key, std::string_view kind,
                                        const std::string& extra_chain = {});
  StateDir dir_;
};

}  // namespace palyra::identity
