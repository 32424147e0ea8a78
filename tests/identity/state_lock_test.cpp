// The state directory's lock: a second holder waits until the first lets go.
#include "palyra/identity/state_lock.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "identity_fixture.hpp"

namespace palyra::identity {
namespace {

using namespace std::chrono_literals;

class StateLockTest : public palyra::testing::IdentityDirTest {};

TEST_F(StateLockTest, StateLockExcludesASecondHolder) {
  auto first = StateLock::acquire(state());
  ASSERT_TRUE(first.ok());
  struct stat st {};
  ASSERT_EQ(::stat(state().lock_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::atomic<bool> acquired{false};
  std::thread other([&] {
    auto second = StateLock::acquire(state());
    acquired = second.ok();
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(acquired.load());
  { auto release = std::move(*first); }
  other.join();
  EXPECT_TRUE(acquired.load());
}

}  // namespace
}  // namespace palyra::identity
