#include "palyra/identity/store.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "palyra/common/atomic_file.hpp"
#include "palyra/common/clock.hpp"
#include "palyra/identity/fingerprint.hpp"
#include "palyra/identity/revocation.hpp"

namespace palyra::identity {
namespace {

// Whether the device's newest certificate in the ledger is revoked (so also
// when all of them are): what revoke_device leaves behind.
bool newest_is_revoked(const Ledger& ledger, std::string_view device_id) {
  const LedgerEntry* newest = nullptr;
  for (const auto& e : ledger.entries()) {
    if (e.kind != "device" || e.device_id != device_id) continue;
    if (newest == nullptr || e.sequence >= newest->sequence) newest = &e;
  }
  return newest != nullptr && newest->revoked_at_unix.has_value();
}

}  // namespace

Result<WrittenCertificate> IdentityStore::write_pair(
    const StateLock& /*lock*/, const IssuedCertificate& issued, const std::filesystem::path& cert,
    const std::filesystem::path& key, std::string_view kind, const std::string& extra_chain) {
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

Result<WrittenCertificate> IdentityStore::create_ca(std::string_view name, bool force,
                                                    KeyType key_type) {
  auto lock = StateLock::acquire(dir_);
  if (!lock) return std::move(lock).error();
  std::error_code ec;
  if (!force && std::filesystem::exists(dir_.ca_cert(), ec)) {
    return Error(Errc::AlreadyExists,
                 fmt::format("a CA already exists at '{}' (use --force to replace it, which "
                             "invalidates every certificate it issued)",
                             dir_.ca_cert().string()));
  }
  auto ca = CertificateAuthority::create(name, kDefaultCaValidity, key_type);
  if (!ca) return std::move(ca).error();
  return write_pair(*lock, {ca->certificate(), ca->key()}, dir_.ca_cert(), dir_.ca_key(), "ca");
}

Result<CertificateAuthority> IdentityStore::load_ca() const {
  std::error_code ec;
  if (!std::filesystem::exists(dir_.ca_cert(), ec)) {
    return Error(Errc::NotFound,
                 fmt::format("no CA in '{}': run 'palyra init' first", dir_.root.string()));
  }
  return CertificateAuthority::load(dir_.ca_cert(), dir_.ca_key());
}

Result<std::string> IdentityStore::ca_bundle_pem() const {
  return read_file(dir_.ca_cert());
}

Result<std::string> IdentityStore::signing_ca_spki_sha256() const {
  auto signing = Certificate::from_pem_file(dir_.ca_cert());
  if (!signing) return std::move(signing).error();
  return signing->spki_sha256();
}

Result<WrittenCertificate> IdentityStore::issue_server(const ServerCertificateRequest& request) {
  auto lock = StateLock::acquire(dir_);
  if (!lock) return std::move(lock).error();
  auto ca = load_ca();
  if (!ca) return std::move(ca).error();
  auto issued = ca->issue_server(request);
  if (!issued) return std::move(issued).error();
  return write_pair(*lock, *issued, dir_.server_cert(), dir_.server_key(), "server",
                    ca->certificate().pem());
}

Result<WrittenCertificate> IdentityStore::issue_device(
    std::string_view device_id, std::chrono::seconds valid_for,
    const std::optional<std::filesystem::path>& out_dir, std::optional<KeyType> key_type) {
  PALYRA_TRY(validate_device_id(device_id));
  auto lock = StateLock::acquire(dir_);
  if (!lock) return std::move(lock).error();
  auto ca = load_ca();
  if (!ca) return std::move(ca).error();
  auto issued = ca->issue_device(device_id, valid_for, key_type);
  if (!issued) return std::move(issued).error();
  std::filesystem::path dir = out_dir ? *out_dir : dir_.device_dir(device_id);
  return write_pair(*lock, *issued, dir / "device.pem", dir / "device.key", "device");
}

Result<Certificate> IdentityStore::issue_device_for_key(const CertificateRequest& request,
                                                        std::string_view device_id,
                                                        std::chrono::seconds valid_for,
                                                        SystemTime now, Issue purpose) {
  PALYRA_TRY(validate_device_id(device_id));
  auto lock = StateLock::acquire(dir_);
  if (!lock) return std::move(lock).error();
  // Under the lock: a CA rotation cannot swap the signing CA between
  // loading it and recording what it issued, nor a revocation land between
  // the check and the issue.
  auto ledger = Ledger::load(dir_.ledger());
  if (!ledger) return std::move(ledger).error();
  if (purpose == Issue::Renewal && newest_is_revoked(*ledger, device_id)) {
    return Error(Errc::DeviceRevoked, fmt::format("device '{}' is revoked", device_id));
  }
  auto ca = load_ca();
  if (!ca) return std::move(ca).error();
  auto certificate = ca->issue_device_for_key(request, device_id, valid_for, now);
  if (!certificate) return std::move(certificate).error();
  ledger->record("device", *certificate);
  PALYRA_TRY(ledger->save());
  return certificate;
}

Result<bool> IdentityStore::device_in_use(std::string_view device_id, SystemTime now) const {
  auto ledger = Ledger::load(dir_.ledger());
  if (!ledger) return std::move(ledger).error();
  const auto now_unix = unix_seconds(now);
  return std::any_of(ledger->entries().begin(), ledger->entries().end(), [&](const LedgerEntry& e) {
    return e.kind == "device" && e.device_id == device_id && !e.revoked_at_unix &&
           e.not_after_unix > now_unix;
  });
}

Result<bool> IdentityStore::device_revoked(std::string_view device_id) const {
  auto ledger = Ledger::load(dir_.ledger());
  if (!ledger) return std::move(ledger).error();
  return newest_is_revoked(*ledger, device_id);
}

Result<std::vector<LedgerEntry>> IdentityStore::revoke_fingerprints(
    const std::vector<std::string>& fingerprints) {
  auto lock = StateLock::acquire(dir_);
  if (!lock) return std::move(lock).error();
  return revoke_fingerprints(*lock, fingerprints);
}

Result<std::vector<LedgerEntry>> IdentityStore::revoke_fingerprints(
    const StateLock& /*lock*/, const std::vector<std::string>& fingerprints) {
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
  auto now = unix_seconds(std::chrono::system_clock::now());
  std::vector<LedgerEntry> revoked;
  for (const auto& f : normalized) {
    LedgerEntry* entry = ledger->find(f);
    if (!entry->revoked_at_unix) entry->revoked_at_unix = now;
    revoked.push_back(*entry);
  }
  PALYRA_TRY(ledger->save());
  return revoked;
}

Status IdentityStore::record_revocations(const std::vector<std::string>& fingerprints,
                                         SystemTime now) {
  std::vector<std::string> normalized;
  for (const auto& f : fingerprints) {
    auto n = normalize_fingerprint(f);
    if (!n) return std::move(n).error();
    normalized.push_back(std::move(*n));
  }
  auto lock = StateLock::acquire(dir_);
  if (!lock) return std::move(lock).error();
  auto ledger = Ledger::load(dir_.ledger());
  if (!ledger) return std::move(ledger).error();
  auto index = RevocationIndex::load(dir_.revocations());
  if (!index) return std::move(index).error();
  PALYRA_TRY((*index)->add(normalized));
  bool marked = false;
  for (const auto& f : normalized) {
    LedgerEntry* entry = ledger->find(f);
    if (entry == nullptr || entry->revoked_at_unix) continue;
    entry->revoked_at_unix = unix_seconds(now);
    marked = true;
  }
  if (marked) PALYRA_TRY(ledger->save());
  return {};
}

Result<std::vector<LedgerEntry>> IdentityStore::revoke_device(std::string_view device_id) {
  PALYRA_TRY(validate_device_id(device_id));
  auto lock = StateLock::acquire(dir_);
  if (!lock) return std::move(lock).error();
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
  return revoke_fingerprints(*lock, fingerprints);
}

}  // namespace palyra::identity
