#include "palyra/common/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace palyra {
namespace {

Error io_error(std::string_view what, const std::filesystem::path& path, int err) {
  return Error(err == ENOENT ? Errc::NotFound : Errc::IoFailed,
               fmt::format("{} '{}': {}", what, path.string(), std::strerror(err)));
}

// Makes a rename in `directory` durable. A filesystem that cannot sync a
// directory at all says EINVAL (fsync(2)): there is nothing more to flush.
Status fsync_directory(const std::filesystem::path& directory, const std::filesystem::path& file) {
  int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    int err = errno;
    return io_error(
        fmt::format("wrote '{}' but cannot open its directory to fsync it", file.string()),
        directory, err);
  }
  int rv = ::fsync(dir_fd);
  int err = errno;
  ::close(dir_fd);
  if (rv != 0 && err != EINVAL) {
    return io_error(fmt::format("wrote '{}' but cannot fsync its directory", file.string()),
                    directory, err);
  }
  return {};
}

}  // namespace

Status write_file_atomically(const std::filesystem::path& path, std::string_view contents,
                             mode_t mode) {
  std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : ".";
  std::random_device random;
  std::filesystem::path temp =
      directory / fmt::format(".{}.tmp-{:08x}", path.filename().string(), random());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    int err = errno;
    return io_error(fmt::format("cannot write '{}': cannot create a file in", path.string()),
                    directory, err);
  }
  auto fail = [&](std::string_view what) {
    int err = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return io_error(what, temp, err);
  };
  // The umask may have narrowed the mode; never widen it beyond `mode`. The
  // rename below replaces any existing file, whatever its mode was.
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
  // Until the directory is synced, a crash may bring the old file back.
  return fsync_directory(directory, path);
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

namespace {

// Creates `path` 0700 with every missing parent 0700 too (create_directories
// would make them with the umask's wider mode). Existing parents are left
// as they are: they are not ours to narrow.
Status create_private_directories(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return Error(Errc::IoFailed,
                   fmt::format("'{}' exists and is not a directory", path.string()));
    }
    return {};
  }
  if (path.has_parent_path() && path.parent_path() != path) {
    PALYRA_TRY(create_private_directories(path.parent_path()));
  }
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    int err = errno;
    return io_error("cannot create directory", path, err);
  }
  return {};
}

}  // namespace

Status ensure_private_directory(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    // ENOTDIR: a parent is a file, which creating the parents names.
    if (err != ENOENT && err != ENOTDIR) return io_error("cannot inspect directory", path, err);
    return create_private_directories(path);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error(Errc::IoFailed, fmt::format("'{}' exists and is not a directory", path.string()));
  }
  // An existing directory of ours that others may read or enter is narrowed.
  // One that is not ours, or a sticky shared one such as /tmp, is left alone:
  // the files we put in it carry their own modes.
  const bool ours = st.st_uid == ::geteuid();
  const bool shared = (st.st_mode & S_ISVTX) != 0;
  if (ours && !shared && (st.st_mode & 077) != 0) {
    const mode_t narrowed = st.st_mode & 07700;
    if (::chmod(path.c_str(), narrowed) != 0) {
      int err = errno;
      return io_error(fmt::format("cannot narrow to mode {:04o} the directory", narrowed), path,
                      err);
    }
  }
  return {};
}

Status check_writable_directory(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    return io_error("cannot use directory", path, err);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error(Errc::IoFailed, fmt::format("'{}' is not a directory", path.string()));
  }
  // Creating a file takes write and search permission on the directory.
  if (::access(path.c_str(), W_OK | X_OK) != 0) {
    int err = errno;
    return io_error("cannot create files in directory", path, err);
  }
  return {};
}

}  // namespace palyra
