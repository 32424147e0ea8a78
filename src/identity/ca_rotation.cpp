// IdentityStore::rotate_ca: the three-step CA rotation (see store.hpp).
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/store.hpp"

namespace palyra::identity {
namespace {

std::string describe_duration(std::chrono::seconds d) {
  const auto s = d.count();
  if (s > 0 && s % 86400 == 0) return fmt::format("{}d", s / 86400);
  if (s > 0 && s % 3600 == 0) return fmt::format("{}h", s / 3600);
  return fmt::format("{}s", s);
}

bool file_exists(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// Unlinks and makes the unlink durable before the next step, so the files
// that mark a rotation's stage disappear in the order they are removed.
Status remove_durably(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Error(Errc::IoFailed,
                 fmt::format("cannot remove '{}': {}", path.string(), std::strerror(errno)));
  }
  int fd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  return {};
}

}  // namespace

Result<CaRotationStage> IdentityStore::ca_rotation_stage() const {
  if (!file_exists(dir_.ca_cert())) {
    return Error(Errc::NotFound,
                 fmt::format("no CA in '{}': run 'palyra init' first", dir_.root.string()));
  }
  if (file_exists(dir_.next_ca_cert())) return CaRotationStage::Introduced;
  if (file_exists(dir_.retired_ca_cert())) return CaRotationStage::Promoted;
  return CaRotationStage::None;
}

Result<CaRotationStep> IdentityStore::rotate_ca(std::string_view new_name,
                                                std::chrono::seconds device_validity,
                                                std::optional<KeyType> key_type) {
  auto lock = StateLock::acquire(dir_);
  if (!lock) return std::move(lock).error();
  auto stage = ca_rotation_stage();
  if (!stage) return std::move(stage).error();
  auto current = load_ca();
  if (!current) return std::move(current).error();
  const std::string wait = describe_duration(device_validity);

  switch (*stage) {
    case CaRotationStage::None: {
      auto next = CertificateAuthority::create(new_name, kDefaultCaValidity,
                                               key_type.value_or(current->key_type()));
      if (!next) return std::move(next).error();
      // next.pem is the stage marker, so it is written last: a crash before
      // it leaves stage None, and this step starts over from ca.pem's first
      // certificate (the bundle is rebuilt, never appended to).
      PALYRA_TRY(write_file_atomically(dir_.next_ca_key(), next->key().pem(), 0600));
      PALYRA_TRY(write_file_atomically(
          dir_.ca_cert(), current->certificate().pem() + next->certificate().pem(), 0644));
      auto ledger = Ledger::load(dir_.ledger());
      if (!ledger) return std::move(ledger).error();
      ledger->record("ca", next->certificate());
      PALYRA_TRY(ledger->save());
      PALYRA_TRY(write_file_atomically(dir_.next_ca_cert(), next->certificate().pem(), 0644));
      return CaRotationStep{
          CaRotationStage::Introduced,
          fmt::format("New CA '{}' ({}, SPKI SHA-256 {}) created in ca/next.pem; ca.pem now "
                      "trusts the current CA and the new one. The current CA still signs.",
                      next->certificate().common_name(), key_type_name(next->key_type()),
                      next->certificate().spki_sha256()),
          fmt::format("Every node that enrolls or renews from now on receives both CAs. Run "
                      "'palyra ca rotate' again after one device validity ({}), when all nodes "
                      "have renewed and trust both.",
                      wait)};
    }
    case CaRotationStage::Introduced: {
      // The old CA: retired.pem once this step has begun (it may be
      // re-running after a crash, with ca.pem already [new, old]).
      auto old = file_exists(dir_.retired_ca_cert())
                     ? Certificate::from_pem_file(dir_.retired_ca_cert())
                     : Result<Certificate>(current->certificate());
      if (!old) return std::move(old).error();
      // The new key may already be ca.key if a previous run got that far.
      auto next = CertificateAuthority::load(dir_.next_ca_cert(), file_exists(dir_.next_ca_key())
                                                                      ? dir_.next_ca_key()
                                                                      : dir_.ca_key());
      if (!next) return std::move(next).error();
      PALYRA_TRY(write_file_atomically(dir_.retired_ca_cert(), old->pem(), 0644));
      PALYRA_TRY(write_file_atomically(dir_.ca_key(), next->key().pem(), 0600));
      PALYRA_TRY(
          write_file_atomically(dir_.ca_cert(), next->certificate().pem() + old->pem(), 0644));
      // The server's chain must end in the signing CA: reissue it, same names.
      std::string server_note = "no server certificate to reissue";
      if (file_exists(dir_.server_cert())) {
        auto server = Certificate::from_pem_file(dir_.server_cert());
        if (!server) return std::move(server).error();
        auto issued = next->issue_server(server_request_like(*server));
        if (!issued) return std::move(issued).error();
        auto written = write_pair(*lock, *issued, dir_.server_cert(), dir_.server_key(), "server",
                                  next->certificate().pem());
        if (!written) return std::move(written).error();
        server_note =
            fmt::format("server certificate reissued under it ({})", written->fingerprint);
      }
      PALYRA_TRY(remove_durably(dir_.next_ca_cert()));
      PALYRA_TRY(remove_durably(dir_.next_ca_key()));
      return CaRotationStep{
          CaRotationStage::Promoted,
          fmt::format(
              "The new CA '{}' now signs; {}. The old CA '{}' stays trusted (ca/retired.pem).",
              next->certificate().common_name(), server_note, old->common_name()),
          fmt::format("Run 'palyra ca rotate' again after one device validity ({}), when every "
                      "device certificate from the old CA has been renewed or has expired. "
                      "Enrollment tokens made before now name the old CA: make new ones.",
                      wait)};
    }
    case CaRotationStage::Promoted: {
      PALYRA_TRY(write_file_atomically(dir_.ca_cert(), current->certificate().pem(), 0644));
      PALYRA_TRY(remove_durably(dir_.retired_ca_cert()));
      return CaRotationStep{CaRotationStage::None,
                            fmt::format("The old CA is no longer trusted; ca.pem holds only '{}'.",
                                        current->certificate().common_name()),
                            "Nothing: the rotation is complete."};
    }
  }
  return Error(Errc::Internal, "unknown CA rotation stage");
}

}  // namespace palyra::identity
