#include "palyra/common/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

namespace palyra {
namespace {

Error io_error(std::string_view what, const std::filesystem::path& path, int err) {
  return Error(err == ENOENT ? Errc::NotFound : Errc::IoFailed,
               fmt::format("{} '{}': {}", what, path.string(), std::strerror(err)));
}

}  // namespace

Status write_file_atomically(const std::filesystem::path& path, std::string_view contents,
                             mode_t mode) {
  std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : ".";
  std::random_device random;
  std::filesystem::path temp =
      directory / fmt::format(".{}.tmp-{:08x}", path.filename().string(), random());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return io_error("cannot create", temp, errno);
  auto fail = [&](std::string_view what) {
    int err = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return io_error(what, temp, err);
  };
  // The umask may have narrowed the mode; never widen it beyond `mode`.
  if (::fchmod(fd, mode) != 0) return fail("cannot set mode of");
  std::size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot fsync");
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return io_error("cannot close", temp, err);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return io_error("cannot rename into place", path, err);
  }
  int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // make the rename itself durable
    ::close(dir_fd);
  }
  return {};
}

Result<std::string> read_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", path, errno);
  std::string out;
  char buffer[8192];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return io_error("cannot read", path, err);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

Status ensure_private_directory(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return {};
  // Every directory we create is 0700, parents included: create_directories
  // would make the missing parents with the umask's wider mode.
  if (path.has_parent_path() && path.parent_path() != path) {
    PALYRA_TRY(ensure_private_directory(path.parent_path()));
  }
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error(Errc::IoFailed,
                 fmt::format("cannot create directory '{}': {}", path.string(), std::strerror(errno)));
  }
  return {};
}

}  // namespace palyra
