// palyrad under a service manager: the test plays systemd's part, owning the
// NOTIFY_SOCKET palyrad reports to, and checks what arrives and in which
// order (READY once listening, WATCHDOG pings, RELOADING then READY around
// SIGHUP, STOPPING when draining).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <random>
#include <string>

#include "daemon_fixture.hpp"

namespace palyra::e2e {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// An abstract-namespace datagram socket, as systemd's own notify socket is
// a datagram socket; abstract so the name has no path-length limit.
class NotifySocket {
 public:
  NotifySocket() {
    std::random_device random;
    name_ = "@palyra-notify-test-" + std::to_string(::getpid()) + "-" + std::to_string(random());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    // Abstract: a leading NUL instead of '@', and the length says where it ends.
    std::memcpy(address.sun_path + 1, name_.data() + 1, name_.size() - 1);
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool bound() const { return bound_; }
  const std::string& name() const { return name_; }

  // The next message, or nothing after `timeout`.
  std::optional<std::string> next(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(n));
  }
  // The next message that is not a watchdog ping, counting the pings seen.
  std::optional<std::string> next_state(std::chrono::milliseconds timeout, int& pings) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto message = next(left);
      if (!message) return std::nullopt;
      if (*message == "WATCHDOG=1") {
        ++pings;
        continue;
      }
      return message;
    }
    return std::nullopt;
  }

 private:
  std::string name_;
  int fd_ = -1;
  bool bound_ = false;
};

class ServiceNotifyTest : public DaemonTest {};

TEST_F(ServiceNotifyTest, ReadyReloadingAndStoppingArriveInOrderWithWatchdogPings) {
  NotifySocket manager;
  ASSERT_TRUE(manager.bound()) << std::strerror(errno);
  // 300 ms: palyrad pings every 150 ms from its loop.
  ASSERT_TRUE(start_daemon({}, {{"NOTIFY_SOCKET", manager.name()}, {"WATCHDOG_USEC", "300000"}}));

  int pings = 0;
  auto ready = manager.next_state(5s, pings);
  ASSERT_TRUE(ready) << log();
  EXPECT_THAT(*ready, StartsWith("READY=1\nSTATUS=serving quic=" + address_));

  // The watchdog keeps coming while the daemon idles.
  const auto waited_from = std::chrono::steady_clock::now();
  while (pings < 3 && std::chrono::steady_clock::now() - waited_from < 5s) {
    auto message = manager.next(1s);
    ASSERT_TRUE(message) << "no watchdog ping within 1 s\n" << log();
    if (*message == "WATCHDOG=1") ++pings;
  }
  EXPECT_GE(pings, 3);

  daemon_->signal(SIGHUP);
  auto reloading = manager.next_state(5s, pings);
  ASSERT_TRUE(reloading) << log();
  EXPECT_THAT(*reloading, StartsWith("RELOADING=1\nSTATUS=reloading"));
  auto ready_again = manager.next_state(5s, pings);
  ASSERT_TRUE(ready_again) << log();
  EXPECT_THAT(*ready_again, StartsWith("READY=1\nSTATUS=serving"));

  daemon_->signal(SIGTERM);
  auto stopping = manager.next_state(5s, pings);
  ASSERT_TRUE(stopping) << log();
  EXPECT_THAT(*stopping, StartsWith("STOPPING=1\nSTATUS=draining 0 call(s)"));
  EXPECT_THAT(*stopping, HasSubstr("SIGTERM"));
  EXPECT_EQ(daemon_->wait(10s), 0);
  daemon_.reset();
}

TEST_F(ServiceNotifyTest, WithoutAServiceManagerNothingIsRequiredAndNoWatchdogRuns) {
  ASSERT_TRUE(start_daemon());
  EXPECT_THAT(log(), ::testing::Not(HasSubstr("systemd watchdog")));
  EXPECT_THAT(log(), ::testing::Not(HasSubstr("cannot notify the service manager")));
  EXPECT_EQ(stop_daemon(), 0);
}

}  // namespace
}  // namespace palyra::e2e
