#include "palyra/identity/device_identity.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <gnutls/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/fingerprint.hpp"

namespace palyra::identity {
namespace {

Error io_error(std::string_view what, const std::filesystem::path& path, int err) {
  return Error(Errc::IoFailed, fmt::format("{} '{}': {}", what, path.string(), std::strerror(err)));
}

Status fsync_directory(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open directory", path, errno);
  int rv = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rv != 0) return io_error("cannot fsync directory", path, err);
  return {};
}

std::string random_hex() {
  std::array<unsigned char, 8> bytes{};
  gnutls_rnd(GNUTLS_RND_NONCE, bytes.data(), bytes.size());
  return lower_hex(bytes);
}

// ".<id>.<hex>": a generation of this device (ids may contain dots, so the
// rest after ".<id>." must be hex only, or ".a.b.ff" would belong to "a").
bool is_generation_of(std::string_view name, std::string_view device_id) {
  std::string prefix = fmt::format(".{}.", device_id);
  if (!name.starts_with(prefix) || name.size() == prefix.size()) return false;
  name.remove_prefix(prefix.size());
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Status write_generation(const std::filesystem::path& generation, const PrivateKey& key,
                        const Certificate& certificate) {
  std::error_code ec;
  std::filesystem::remove_all(generation, ec);  // a leftover of an interrupted store
  if (::mkdir(generation.c_str(), 0700) != 0) return io_error("cannot create", generation, errno);
  // Key first, as everywhere: a certificate on disk always has its key.
  PALYRA_TRY(write_file_atomically(generation / "device.key", key.pem(), 0600));
  PALYRA_TRY(write_file_atomically(generation / "device.pem", certificate.pem(), 0644));
  return fsync_directory(generation.parent_path());
}

}  // namespace

Status store_device_identity(const StateDir& dir, std::string_view device_id, const PrivateKey& key,
                             const Certificate& certificate, std::string_view ca_bundle_pem) {
  PALYRA_TRY(validate_device_id(device_id));
  std::error_code ec;
  if (std::filesystem::exists(dir.ca_key(), ec)) {
    return Error(Errc::InvalidArgument,
                 fmt::format("'{}' holds a CA key: it is a CA's state directory, not a node's",
                             dir.root.string()));
  }
  if (certificate.device_id() != device_id) {
    return Error(Errc::InvalidArgument, fmt::format("the certificate is for device '{}', not '{}'",
                                                    certificate.device_id(), device_id));
  }
  auto key_id = certificate_key_id(certificate);
  if (!key_id) return std::move(key_id).error();
  if (*key_id != key.key_id()) {
    return Error(
        Errc::KeyCertificateMismatch,
        fmt::format("the key does not belong to the certificate for device '{}'", device_id));
  }
  auto bundle = Certificate::chain_from_pem(ca_bundle_pem, "the CA bundle");
  if (!bundle) return std::move(bundle).error();

  PALYRA_TRY(ensure_private_directory(dir.ca_dir()));
  PALYRA_TRY(write_file_atomically(dir.ca_cert(), ca_bundle_pem, 0644));

  const auto devices = dir.devices_dir();
  PALYRA_TRY(ensure_private_directory(devices));
  const std::string generation_name = fmt::format(".{}.{}", device_id, certificate.serial_hex());
  const auto link = dir.device_dir(device_id);

  struct stat st {};
  const bool exists = ::lstat(link.c_str(), &st) == 0;
  if (exists && S_ISLNK(st.st_mode) &&
      std::filesystem::read_symlink(link, ec).filename() == generation_name) {
    // The same certificate again: its generation is current, rewrite in place.
    PALYRA_TRY(write_file_atomically(devices / generation_name / "device.key", key.pem(), 0600));
    return write_file_atomically(devices / generation_name / "device.pem", certificate.pem(), 0644);
  }
  PALYRA_TRY(write_generation(devices / generation_name, key, certificate));

  if (exists && S_ISDIR(st.st_mode)) {
    // rename(2) cannot put a symlink over a directory: move it aside first.
    auto aside = devices / fmt::format(".{}.{}", device_id, random_hex());
    if (::rename(link.c_str(), aside.c_str()) != 0)
      return io_error("cannot move aside", link, errno);
  } else if (exists && !S_ISLNK(st.st_mode)) {
    return Error(Errc::IoFailed,
                 fmt::format("'{}' is neither a directory nor a symlink", link.string()));
  }
  // Relative target: the state directory may be moved or mounted elsewhere.
  auto temp = devices / fmt::format(".{}.link-{}", device_id, random_hex());
  if (::symlink(generation_name.c_str(), temp.c_str()) != 0) {
    return io_error("cannot create symlink", temp, errno);
  }
  if (::rename(temp.c_str(), link.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return io_error("cannot replace", link, err);
  }
  PALYRA_TRY(fsync_directory(devices));

  // Older generations (and any a crash left behind) go last; failing to
  // remove one leaves clutter, never a broken identity.
  for (const auto& entry : std::filesystem::directory_iterator(devices, ec)) {
    const auto name = entry.path().filename().string();
    if (name != generation_name && is_generation_of(name, device_id)) {
      std::error_code remove_error;
      std::filesystem::remove_all(entry.path(), remove_error);
    }
  }
  return {};
}

}  // namespace palyra::identity
