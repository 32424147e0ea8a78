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
#include "palyra/identity/ledger.hpp"
#include "palyra/identity/state_dir.hpp"

namespace palyra::identity {

struct WrittenCertificate {
  std::filesystem::path cert;
  std::filesystem::path key;
  std::string fingerprint;
  SystemTime not_after;
};

class IdentityStore {
 public:
  explicit IdentityStore(StateDir dir) : dir_(std::move(dir)) {}
  const StateDir& dir() const noexcept { return dir_; }

  // AlreadyExists (naming the file) unless `force`.
  Result<WrittenCertificate> create_ca(std::string_view name, bool force);
  // NotFound when there is no CA yet ("run palyra init").
  Result<CertificateAuthority> load_ca() const;
  Result<WrittenCertificate> issue_server(const ServerCertificateRequest& request);
  // Writes to devices/<id>/ unless `out_dir` is given.
  Result<WrittenCertificate> issue_device(std::string_view device_id, std::chrono::seconds valid_for,
                                          const std::optional<std::filesystem::path>& out_dir);
  // Revokes fingerprints known to the ledger: UnknownFingerprint otherwise.
  // Returns the ledger entries revoked now.
  Result<std::vector<LedgerEntry>> revoke_fingerprints(const std::vector<std::string>& fingerprints);
  // Every unrevoked certificate of the device; UnknownFingerprint if none.
  Result<std::vector<LedgerEntry>> revoke_device(std::string_view device_id);
  Result<Ledger> ledger() const { return Ledger::load(dir_.ledger()); }

 private:
  Result<WrittenCertificate> write_pair(const IssuedCertificate& issued,
                                        const std::filesystem::path& cert,
                                        const std::filesystem::path& key, std::string_view kind,
                                        const std::string& extra_chain = {});
  StateDir dir_;
};

}  // namespace palyra::identity
