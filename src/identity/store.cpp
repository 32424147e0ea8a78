#include "palyra/identity/store.hpp"

#include <fmt/format.h>

#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/fingerprint.hpp"
#include "palyra/identity/revocation.hpp"

namespace palyra::identity {

Result<WrittenCertificate> IdentityStore::write_pair(const IssuedCertificate& issued,
                                                     const std::filesystem::path& cert,
                                                     const std::filesystem::path& key,
                                                     std::string_view kind,
                                                     const std::string& extra_chain) {
  auto ledger = Ledger::load(dir_.ledger());
  if (!ledger) return std::move(ledger).error();
  PALYRA_TRY(ensure_private_directory(cert.parent_path()));
  PALYRA_TRY(ensure_private_directory(key.parent_path()));
  // Key first: a certificate on disk always has its key beside it.
  PALYRA_TRY(write_file_atomically(key, issued.key.pem(), 0600));
  PALYRA_TRY(write_file_atomically(cert, issued.certificate.pem(), 0644));
  if (!extra_chain.empty()) {
    PALYRA_TRY(write_file_atomically(cert.parent_path() / (cert.stem().string() + "-chain.pem"),
                                     issued.certificate.pem() + extra_chain, 0644));
  }
  ledger->record(std::string(kind), issued.certificate);
  PALYRA_TRY(ledger->save());
  return WrittenCertificate{cert, key, issued.certificate.fingerprint(),
                            issued.certificate.not_after()};
}

Result<WrittenCertificate> IdentityStore::create_ca(std::string_view name, bool force) {
  std::error_code ec;
  if (!force && std::filesystem::exists(dir_.ca_cert(), ec)) {
    return Error(Errc::AlreadyExists,
                 fmt::format("a CA already exists at '{}' (use --force to replace it, which "
                             "invalidates every certificate it issued)",
                             dir_.ca_cert().string()));
  }
  auto ca = CertificateAuthority::create(name);
  if (!ca) return std::move(ca).error();
  PALYRA_TRY(ensure_private_directory(dir_.root));
  return write_pair({ca->certificate(), ca->key()}, dir_.ca_cert(), dir_.ca_key(), "ca");
}

Result<CertificateAuthority> IdentityStore::load_ca() const {
  std::error_code ec;
  if (!std::filesystem::exists(dir_.ca_cert(), ec)) {
    return Error(Errc::NotFound, fmt::format("no CA in '{}': run 'palyra init' first",
                                             dir_.root.string()));
  }
  return CertificateAuthority::load(dir_.ca_cert(), dir_.ca_key());
}

Result<WrittenCertificate> IdentityStore::issue_server(const ServerCertificateRequest& request) {
  auto ca = load_ca();
  if (!ca) return std::move(ca).error();
  auto issued = ca->issue_server(request);
  if (!issued) return std::move(issued).error();
  return write_pair(*issued, dir_.server_cert(), dir_.server_key(), "server",
                    ca->certificate().pem());
}

Result<WrittenCertificate> IdentityStore::issue_device(
    std::string_view device_id, std::chrono::seconds valid_for,
    const std::optional<std::filesystem::path>& out_dir) {
  PALYRA_TRY(validate_device_id(device_id));
  auto ca = load_ca();
  if (!ca) return std::move(ca).error();
  auto issued = ca->issue_device(device_id, valid_for);
  if (!issued) return std::move(issued).error();
  std::filesystem::path dir = out_dir ? *out_dir : dir_.device_dir(device_id);
  return write_pair(*issued, dir / "device.pem", dir / "device.key", "device");
}

Result<std::vector<LedgerEntry>> IdentityStore::revoke_fingerprints(
    const std::vector<std::string>& fingerprints) {
  auto ledger = Ledger::load(dir_.ledger());
  if (!ledger) return std::move(ledger).error();
  std::vector<std::string> normalized;
  for (const auto& f : fingerprints) {
    auto n = normalize_fingerprint(f);
    if (!n) return std::move(n).error();
    if (ledger->find(*n) == nullptr) {
      return Error(Errc::UnknownFingerprint,
                   fmt::format("no certificate with fingerprint {} was issued by this CA", *n));
    }
    normalized.push_back(std::move(*n));
  }
  auto index = RevocationIndex::load(dir_.revocations());
  if (!index) return std::move(index).error();
  PALYRA_TRY((*index)->add(normalized));
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  std::vector<LedgerEntry> revoked;
  for (const auto& f : normalized) {
    LedgerEntry* entry = ledger->find(f);
    if (!entry->revoked_at_unix) entry->revoked_at_unix = now;
    revoked.push_back(*entry);
  }
  PALYRA_TRY(ledger->save());
  return revoked;
}

Result<std::vector<LedgerEntry>> IdentityStore::revoke_device(std::string_view device_id) {
  PALYRA_TRY(validate_device_id(device_id));
  auto ledger = Ledger::load(dir_.ledger());
  if (!ledger) return std::move(ledger).error();
  std::vector<std::string> fingerprints;
  for (const auto& e : ledger->entries()) {
    if (e.kind == "device" && e.device_id == device_id && !e.revoked_at_unix) {
      fingerprints.push_back(e.fingerprint);
    }
  }
  if (fingerprints.empty()) {
    return Error(Errc::UnknownFingerprint,
                 fmt::format("device '{}' has no unrevoked certificate in the ledger", device_id));
  }
  return revoke_fingerprints(fingerprints);
}

}  // namespace palyra::identity
