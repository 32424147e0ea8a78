// Atomic file replacement and private directories. The system calls whose
// failure is hard to provoke (fsync, fchmod, chmod) are wrapped at link time
// (-Wl,--wrap, see tests/CMakeLists.txt), so each failure is tested for real.
#include "palyra/common/atomic_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>

#include "quoted_path.hpp"
#include "temp_dir.hpp"

namespace {

// What the wrapped calls do: 0 passes them through, anything else is the
// errno they fail with.
struct Faults {
  int fsync_directory = 0;
  int fsync_file = 0;
  int fchmod = 0;
  int chmod = 0;
};
Faults faults;

bool is_directory(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

extern "C" {
int __real_fsync(int fd);
int __real_fchmod(int fd, mode_t mode);
int __real_chmod(const char* path, mode_t mode);

int __wrap_fsync(int fd) {
  int fault = is_directory(fd) ? faults.fsync_directory : faults.fsync_file;
  if (fault != 0) {
    errno = fault;
    return -1;
  }
  return __real_fsync(fd);
}
int __wrap_fchmod(int fd, mode_t mode) {
  if (faults.fchmod != 0) {
    errno = faults.fchmod;
    return -1;
  }
  return __real_fchmod(fd, mode);
}
int __wrap_chmod(const char* path, mode_t mode) {
  if (faults.chmod != 0) {
    errno = faults.chmod;
    return -1;
  }
  return __real_chmod(path, mode);
}
}

namespace palyra {
namespace {

using palyra::testing::quoted;

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class AtomicFileTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    faults = {};
  }
  void TearDown() override {
    faults = {};
    TempDirTest::TearDown();
  }
  // Files left beside the target (temporaries) besides `keep`.
  std::vector<std::string> stray_files(const std::string& keep) {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      if (entry.path().filename() != keep) out.push_back(entry.path().filename().string());
    }
    return out;
  }
};

TEST_F(AtomicFileTest, AnExistingWiderFileEndsWithTheModeAsked) {
  auto path = dir_ / "device.key";
  ASSERT_TRUE(write_file_atomically(path, "public once", 0644).ok());
  ASSERT_EQ(mode_of(path), 0644u);
  ASSERT_TRUE(write_file_atomically(path, "secret now", 0600).ok());
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(*read_file(path), "secret now");
  // A file someone else wrote, 0666 where the umask allows it.
  auto other = dir_ / "other.key";
  ASSERT_EQ(::close(::open(other.c_str(), O_WRONLY | O_CREAT, 0666)), 0);
  ASSERT_EQ(::chmod(other.c_str(), 0666), 0);
  ASSERT_TRUE(write_file_atomically(other, "k", 0600).ok());
  EXPECT_EQ(mode_of(other), 0600u);
}

TEST_F(AtomicFileTest, AtomicWriteReplacesWithTheRequestedMode) {
  auto path = dir_ / "secret.key";
  ASSERT_TRUE(write_file_atomically(path, "one", 0600).ok());
  ASSERT_TRUE(write_file_atomically(path, "two", 0600).ok());
  EXPECT_EQ(*read_file(path), "two");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(write_file_atomically(dir_ / "no" / "dir" / "f", "x").error().code(), Errc::NotFound);
}

TEST_F(AtomicFileTest, AFailedDirectoryFsyncIsAnErrorNamingTheDirectory) {
  auto path = dir_ / "ledger.json";
  faults.fsync_directory = EIO;
  auto written = write_file_atomically(path, "[]");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code(), Errc::IoFailed);
  const std::string& message = written.error().message();
  EXPECT_NE(message.find(quoted(dir_)), std::string::npos) << message;
  EXPECT_NE(message.find("ledger.json"), std::string::npos) << message;
  EXPECT_NE(message.find(std::strerror(EIO)), std::string::npos) << message;
}

TEST_F(AtomicFileTest, ADirectoryThatCannotBeSyncedAtAllIsNotAnError) {
  faults.fsync_directory = EINVAL;  // fsync(2): "fd is bound to a special file ..."
  EXPECT_TRUE(write_file_atomically(dir_ / "f", "x").ok());
}

TEST_F(AtomicFileTest, AFailedFileFsyncLeavesTheOldFileAndNoTemporary) {
  auto path = dir_ / "tokens.json";
  ASSERT_TRUE(write_file_atomically(path, "old", 0600).ok());
  faults.fsync_file = ENOSPC;
  auto written = write_file_atomically(path, "new", 0600);
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.error().message().find(std::strerror(ENOSPC)), std::string::npos);
  faults = {};
  EXPECT_EQ(*read_file(path), "old");
  EXPECT_EQ(stray_files("tokens.json"), std::vector<std::string>{});
}

TEST_F(AtomicFileTest, AFailedChmodIsAnErrorAndTheTargetIsUntouched) {
  auto path = dir_ / "device.key";
  faults.fchmod = EPERM;
  auto written = write_file_atomically(path, "secret", 0600);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code(), Errc::IoFailed);
  EXPECT_NE(written.error().message().find("cannot set mode"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(stray_files(""), std::vector<std::string>{});
}

// Root writes anywhere, so `task` runs in a child, as an unprivileged user
// when the test runs as root; returns what it returned.
std::string as_unprivileged_user(const std::function<std::string()>& task) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return "pipe failed";
  pid_t child = ::fork();
  if (child < 0) return "fork failed";
  if (child == 0) {
    ::close(pipe_fds[0]);
    if (::geteuid() == 0) {
      const passwd* nobody = ::getpwnam("nobody");
      uid_t uid = nobody != nullptr ? nobody->pw_uid : 65534;
      if (::setgid(uid) != 0 || ::setuid(uid) != 0) ::_exit(2);
    }
    const std::string message = task();
    (void)!::write(pipe_fds[1], message.data(), message.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) message.append(buffer, n);
  ::close(pipe_fds[0]);
  int status = 0;
  if (::waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "could not drop privileges";
  }
  return message;
}

TEST_F(AtomicFileTest, AWriteIntoAReadOnlyDirectoryFailsNamingIt) {
  auto locked = dir_ / "read-only";
  ASSERT_EQ(::mkdir(locked.c_str(), 0555), 0);
  ASSERT_EQ(::chmod(locked.c_str(), 0555), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  const std::string message = as_unprivileged_user([&] {
    auto written = write_file_atomically(locked / "device.key", "k", 0600);
    return written.ok() ? std::string("ok") : written.error().message();
  });
  EXPECT_NE(message.find(quoted(locked)), std::string::npos) << message;
  EXPECT_NE(message.find("device.key"), std::string::npos) << message;
  EXPECT_NE(message.find(std::strerror(EACCES)), std::string::npos) << message;
}

TEST_F(AtomicFileTest, AWritableDirectoryExistsIsADirectoryAndTakesNewFiles) {
  EXPECT_TRUE(check_writable_directory(dir_).ok());
  auto missing = check_writable_directory(dir_ / "missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::NotFound);
  EXPECT_NE(missing.error().message().find(quoted(dir_ / "missing")), std::string::npos)
      << missing.error().message();
  std::ofstream(dir_ / "file") << "not a directory";
  auto file = check_writable_directory(dir_ / "file");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code(), Errc::IoFailed);
  EXPECT_NE(file.error().message().find(quoted(dir_ / "file")), std::string::npos)
      << file.error().message();

  auto locked = dir_ / "read-only";
  ASSERT_EQ(::mkdir(locked.c_str(), 0555), 0);
  ASSERT_EQ(::chmod(locked.c_str(), 0555), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  const std::string message = as_unprivileged_user([&] {
    auto checked = check_writable_directory(locked);
    return checked.ok() ? std::string("ok") : checked.error().message();
  });
  EXPECT_NE(message.find(quoted(locked)), std::string::npos) << message;
  EXPECT_NE(message.find(std::strerror(EACCES)), std::string::npos) << message;
}

TEST_F(AtomicFileTest, PrivateDirectoriesAreCreatedOwnerOnlyAndExistingParentsKept) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  auto deep = dir_ / "state" / "ca";
  ASSERT_TRUE(ensure_private_directory(deep).ok());
  EXPECT_EQ(mode_of(dir_ / "state"), 0700u);
  EXPECT_EQ(mode_of(deep), 0700u);
  EXPECT_EQ(mode_of(dir_), 0755u);
}

TEST_F(AtomicFileTest, AnExistingWiderDirectoryIsNarrowed) {
  auto state = dir_ / "state";
  ASSERT_EQ(::mkdir(state.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(state.c_str(), 0755), 0);
  ASSERT_TRUE(ensure_private_directory(state).ok());
  EXPECT_EQ(mode_of(state), 0700u);
  // Narrower than asked stays as it is.
  ASSERT_EQ(::chmod(state.c_str(), 0500), 0);
  ASSERT_TRUE(ensure_private_directory(state).ok());
  EXPECT_EQ(mode_of(state), 0500u);
}

TEST_F(AtomicFileTest, AStickySharedDirectoryIsLeftAlone) {
  auto shared = dir_ / "tmp";
  ASSERT_EQ(::mkdir(shared.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(shared.c_str(), 01777), 0);
  ASSERT_TRUE(ensure_private_directory(shared).ok());
  EXPECT_EQ(mode_of(shared), 01777u);
}

TEST_F(AtomicFileTest, ADirectoryThatCannotBeNarrowedIsAnErrorNamingIt) {
  auto state = dir_ / "state";
  ASSERT_EQ(::mkdir(state.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(state.c_str(), 0750), 0);
  faults.chmod = EROFS;
  auto ensured = ensure_private_directory(state);
  ASSERT_FALSE(ensured.ok());
  EXPECT_EQ(ensured.error().code(), Errc::IoFailed);
  EXPECT_NE(ensured.error().message().find(quoted(state)), std::string::npos);
  EXPECT_NE(ensured.error().message().find(std::strerror(EROFS)), std::string::npos);
}

TEST_F(AtomicFileTest, AFileWhereTheDirectoryShouldBeIsAnError) {
  auto state = dir_ / "state";
  std::ofstream(state) << "not a directory";
  for (const auto& path : {state, state / "ca"}) {
    auto ensured = ensure_private_directory(path);
    ASSERT_FALSE(ensured.ok()) << path;
    EXPECT_NE(ensured.error().message().find(quoted(state)), std::string::npos)
        << ensured.error().message();
  }
}

}  // namespace
}  // namespace palyra
