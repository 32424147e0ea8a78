#include "palyra/identity/state_lock.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "palyra/common/atomic_file.hpp"

namespace palyra::identity {

Result<StateLock> StateLock::acquire(const StateDir& dir) {
  PALYRA_TRY(ensure_private_directory(dir.root));
  const auto path = dir.lock_file();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error(Errc::IoFailed, fmt::format("cannot open the lock file '{}': {}", path.string(),
                                             std::strerror(errno)));
  }
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    return Error(Errc::IoFailed,
                 fmt::format("cannot lock '{}': {}", path.string(), std::strerror(err)));
  }
  return StateLock(fd);
}

StateLock& StateLock::operator=(StateLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace palyra::identity
