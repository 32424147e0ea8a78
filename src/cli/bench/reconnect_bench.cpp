// palyra bench reconnect: hold N connections, wait until the server drops
// them (something else kills and restarts it: bench/reconnect kills palyrad
// with -9 and starts it again on the same port), reconnect each as soon as
// it is lost (C handshakes at a time), and measure the time from the first
// loss until every one of the N was lost and answers node.health again. A client notices the
// restart when its next packet (a keep-alive at the latest) meets the new server's stateless reset;
// the rest is the server's handshake capacity.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "figures.hpp"
#include "load_connection.hpp"
#include "target.hpp"

namespace palyra::cli::bench {
namespace {

// A new connection to a server that is not back yet is given up after
// this, and tried again after kRetryDelay (a dead port may answer nothing).
constexpr auto kReconnectHandshakeTimeout = std::chrono::seconds(2);
constexpr std::uint64_t kRetryDelayNs = 100'000'000;

class ReconnectRun {
 public:
  ReconnectRun(Target& target, const ReconnectOptions& options)
      : target_(target), options_(options), slots_(options.count) {}

  // Every connection up (each answered one health call).
  Status open_all() {
    for (std::size_t i = 0; i < slots_.size(); ++i) queue_.push_back(i);
    pump();
    Progress progress("reconnect", "connections up", options_.count);
    return run_until(
        *target_.loop,
        [&] {
          progress.update(up_);
          return up_ == options_.count;
        },
        target_.time_limit, "opening the connections");
  }

  // Until the first connection is lost.
  Status wait_for_loss() {
    std::fprintf(stderr,
                 "palyra bench reconnect: holding %llu connections; waiting for the server to "
                 "drop them (restart it now)\n",
                 static_cast<unsigned long long>(options_.count));
    return run_until(
        *target_.loop, [&] { return first_loss_.has_value(); }, target_.time_limit,
        "waiting for the server to drop the connections");
  }

  // Until every connection was lost and is up again (one that has not
  // sent since the restart does not know yet: it is not back).
  Status recover() {
    Progress progress("reconnect", "connections back", options_.count);
    return run_until(
        *target_.loop,
        [&] {
          progress.update(back_);
          return back_ == options_.count && up_ == options_.count;
        },
        target_.time_limit, "reconnecting");
  }

  void close_all() {
    closing_ = true;  // our own closes are no losses
    for (auto& slot : slots_) {
      if (slot.connection) slot.connection->close();
    }
  }

  std::uint64_t lost() const noexcept { return lost_; }
  std::uint64_t attempts() const noexcept { return attempts_; }
  std::uint64_t failed_attempts() const noexcept { return failed_attempts_; }
  // Seconds from the first loss until the last loss was noticed / all were up.
  double noticed_seconds() const { return seconds_since_first_loss(last_loss_); }
  double recovered_seconds() const { return seconds_since_first_loss(recovered_); }

 private:
  enum class State { Waiting, Connecting, Up };
  struct Slot {
    std::unique_ptr<LoadConnection> connection;
    State state = State::Waiting;
    bool was_lost = false;
    bool back = false;  // up again after its first loss
  };

  double seconds_since_first_loss(const std::optional<Clock::time_point>& at) const {
    if (!first_loss_ || !at) return 0.0;
    return round3(std::chrono::duration<double>(*at - *first_loss_).count());
  }

  // Starts waiting connections while fewer than C handshakes are in flight.
  void pump() {
    while (connecting_ < options_.concurrency && !queue_.empty()) {
      const std::size_t index = queue_.front();
      queue_.pop_front();
      start(index);
    }
  }

  void start(std::size_t index) {
    Slot& slot = slots_[index];
    slot.state = State::Connecting;
    ++connecting_;
    ++attempts_;
    LoadConnection::Handlers handlers;
    handlers.on_established = [this, index] {
      call_health(*slots_[index].connection, [this, index](const Status& outcome, bool healthy) {
        if (outcome.ok() && healthy) {
          came_up(index);
        } else {
          slots_[index].connection->close();  // on_closed retries it
        }
      });
    };
    handlers.on_closed = [this, index](const Error&) { went_down(index); };
    auto connection = open_connection(target_, std::move(handlers));
    if (!connection) {
      went_down(index);
      return;
    }
    slot.connection = std::move(*connection);
  }

  void came_up(std::size_t index) {
    Slot& slot = slots_[index];
    if (slot.state != State::Connecting) return;
    slot.state = State::Up;
    --connecting_;
    ++up_;
    if (slot.was_lost && !std::exchange(slot.back, true)) ++back_;
    if (back_ == options_.count && up_ == options_.count) recovered_ = Clock::now();
    pump();
  }

  void went_down(std::size_t index) {
    if (closing_) return;
    Slot& slot = slots_[index];
    // Never destroyed inside its own callback (load_connection.hpp).
    if (slot.connection) {
      target_.loop->post([doomed = std::shared_ptr<LoadConnection>(std::move(slot.connection))] {});
    }
    if (slot.state == State::Up) {
      // Lost: reconnect at once.
      --up_;
      ++lost_;
      slot.was_lost = true;
      last_loss_ = Clock::now();
      if (!first_loss_) first_loss_ = last_loss_;
      slot.state = State::Waiting;
      queue_.push_back(index);
      pump();
      return;
    }
    if (slot.state != State::Connecting) return;
    // An attempt failed (the server is not back yet, or refused us at its
    // handshake limit): again shortly.
    --connecting_;
    ++failed_attempts_;
    slot.state = State::Waiting;
    target_.loop->schedule_at(transport::monotonic_ns() + kRetryDelayNs, [this, index] {
      queue_.push_back(index);
      pump();
    });
    pump();
  }

  Target& target_;
  const ReconnectOptions& options_;
  std::vector<Slot> slots_;  // sized once: callbacks keep indexes
  std::deque<std::size_t> queue_;
  bool closing_ = false;
  std::uint64_t connecting_ = 0;
  std::uint64_t up_ = 0;
  std::uint64_t back_ = 0;  // slots up again after a loss
  std::uint64_t lost_ = 0;
  std::uint64_t attempts_ = 0;
  std::uint64_t failed_attempts_ = 0;
  std::optional<Clock::time_point> first_loss_;
  std::optional<Clock::time_point> last_loss_;
  std::optional<Clock::time_point> recovered_;
};

}  // namespace

int run_reconnect(const ReconnectOptions& options) {
  if (options.count == 0 || options.concurrency == 0) {
    return report_failure("reconnect",
                          Error(Errc::InvalidArgument, "--count and --concurrency must be > 0"));
  }
  auto target = prepare_target(options.common);
  if (!target) return report_failure("reconnect", target.error());
  target->connection.limits.handshake_timeout = std::min<std::chrono::milliseconds>(
      target->connection.limits.handshake_timeout, kReconnectHandshakeTimeout);
  ReconnectRun run(*target, options);
  Status status = run.open_all();
  if (status) status = run.wait_for_loss();
  if (status) status = run.recover();
  run.close_all();
  print_figures({{"bench", "reconnect"},
                 {"server", target->connection.address.to_string()},
                 {"count", options.count},
                 {"concurrency", options.concurrency},
                 {"lost", run.lost()},
                 {"all_lost_noticed_s", run.noticed_seconds()},
                 {"recovered_s", run.recovered_seconds()},
                 {"attempts", run.attempts()},
                 {"failed_attempts", run.failed_attempts()}});
  if (!status) return report_failure("reconnect", status.error());
  return 0;
}

}  // namespace palyra::cli::bench
