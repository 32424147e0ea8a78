// An exclusive lock on a state directory. The CLI and the daemon both
// read-modify-write the ledger, the revocation index, the token store and
// the CA files; every such sequence holds this lock, so neither loses the
// other's update and a one-use token is consumed once.
//
// flock(2) on <state>/.lock: it is released when the holder exits, however
// it exits, and it excludes threads of one process too, as long as each
// acquires its own StateLock. Not reentrant: acquiring a second StateLock on
// the same directory while holding one blocks forever.
#pragma once

#include "palyra/common/result.hpp"
#include "palyra/identity/state_dir.hpp"

namespace palyra::identity {

class StateLock {
 public:
  // Blocks until the lock is held. Creates the state directory (0700) and
  // the lock file (0600) when missing. IoFailed with the path.
  static Result<StateLock> acquire(const StateDir& dir);

  StateLock(StateLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  StateLock& operator=(StateLock&& other) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace palyra::identity
