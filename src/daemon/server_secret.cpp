#include "server_secret.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "palyra/common/atomic_file.hpp"

namespace palyra::daemon {

Result<transport::ServerSecret> load_or_create_server_secret(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return Error(Errc::IoFailed,
                   fmt::format("server secret {}: {}", path.string(), std::strerror(errno)));
    }
    const transport::ServerSecret secret = transport::generate_server_secret();
    PALYRA_TRY(ensure_private_directory(path.parent_path()));
    PALYRA_TRY(write_file_atomically(
        path, std::string_view(reinterpret_cast<const char*>(secret.data()), secret.size()), 0600));
    return secret;
  }
  if (!S_ISREG(st.st_mode)) {
    return Error(Errc::ConfigInvalid,
                 fmt::format("server secret {} is not a regular file", path.string()));
  }
  if ((st.st_mode & 077) != 0) {
    return Error(Errc::ConfigInvalid,
                 fmt::format("server secret {} is open to group or others (mode {:04o}); "
                             "run chmod 600 on it",
                             path.string(), st.st_mode & 07777));
  }
  auto contents = read_file(path);
  if (!contents) return std::move(contents).error();
  transport::ServerSecret secret{};
  if (contents->size() != secret.size()) {
    return Error(Errc::ConfigInvalid,
                 fmt::format("server secret {} has {} bytes instead of {}; delete it and a new one "
                             "is made at start",
                             path.string(), contents->size(), secret.size()));
  }
  std::copy(contents->begin(), contents->end(), secret.begin());
  return secret;
}

}  // namespace palyra::daemon
