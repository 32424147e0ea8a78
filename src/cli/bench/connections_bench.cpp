// palyra bench connections: open N connections (C handshakes at a time), each
// proving itself with one node.health; hold them idle for a while
// (keep-alives flowing); then ask each for health again. With --server-pid,
// also the server's resident memory per held connection.
#include <fmt/format.h>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "figures.hpp"
#include "load_connection.hpp"
#include "target.hpp"

namespace palyra::cli::bench {
namespace {

// VmRSS from /proc/PID/status in KiB; nullopt when the process is not readable.
std::optional<std::uint64_t> resident_kib(int pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6));
  }
  return std::nullopt;
}

class ConnectionsRun {
 public:
  ConnectionsRun(Target& target, const ConnectionsOptions& options)
      : target_(target), options_(options), progress_("connections", "connections", options.count) {
    slots_.resize(options.count);
  }

  // Opens every connection; each counts once it answered one health call.
  Status open_all() {
    for (std::uint64_t i = 0; i < options_.concurrency && started_ < options_.count; ++i)
      start_next();
    return run_until(
        *target_.loop, [this] { return settled_ == options_.count; }, target_.time_limit,
        "opening the connections");
  }

  Status hold() {
    const auto until = Clock::now() + std::chrono::seconds(options_.hold_s);
    return run_until(
        *target_.loop, [&] { return Clock::now() >= until; },
        std::chrono::seconds(options_.hold_s) + target_.time_limit, "holding");
  }

  // One more health call on every connection still open: it stayed up if it answers.
  Status check_all() {
    std::uint64_t pending = 0;
    for (auto& slot : slots_) {
      if (!slot.connection || slot.connection->closed()) continue;
      ++pending;
      health(slot, [this, &pending](bool healthy) {
        --pending;
        if (healthy) ++stayed_up_;
      });
    }
    return run_until(
        *target_.loop, [&] { return pending == 0; }, target_.time_limit, "the final health round");
  }

  void close_all() {
    for (auto& slot : slots_) {
      if (slot.connection) slot.connection->close();
    }
  }

  std::uint64_t established() const noexcept { return established_; }
  std::uint64_t stayed_up() const noexcept { return stayed_up_; }
  const std::optional<Error>& first_error() const noexcept { return first_error_; }

 private:
  struct Slot {
    std::unique_ptr<LoadConnection> connection;
    bool settled = false;
  };

  void start_next() {
    if (started_ == options_.count) return;
    Slot& slot = slots_[started_++];
    LoadConnection::Handlers handlers;
    handlers.on_established = [this, &slot] {
      health(slot, [this, &slot](bool healthy) {
        if (healthy) ++established_;
        settle(slot);
      });
    };
    handlers.on_closed = [this, &slot](const Error& error) {
      if (!first_error_) first_error_ = error;
      settle(slot);
    };
    auto connection = open_connection(target_, std::move(handlers));
    if (!connection) {
      if (!first_error_) first_error_ = connection.error();
      settle(slot);
      return;
    }
    slot.connection = std::move(*connection);
  }

  void settle(Slot& slot) {
    if (std::exchange(slot.settled, true)) return;
    ++settled_;
    progress_.update(settled_);
    target_.loop->post([this] { start_next(); });
  }

  static void health(Slot& slot, std::function<void(bool)> done) {
    call_health(*slot.connection, [done = std::move(done)](const Status& outcome, bool healthy) {
      done(outcome.ok() && healthy);
    });
  }

  Target& target_;
  const ConnectionsOptions& options_;
  Progress progress_;
  std::vector<Slot> slots_;  // sized once: callbacks keep Slot references
  std::uint64_t started_ = 0;
  std::uint64_t settled_ = 0;
  std::uint64_t established_ = 0;
  std::uint64_t stayed_up_ = 0;
  std::optional<Error> first_error_;
};

}  // namespace

int run_connections(const ConnectionsOptions& options) {
  if (options.count == 0 || options.concurrency == 0) {
    return report_failure("connections",
                          Error(Errc::InvalidArgument, "--count and --concurrency must be > 0"));
  }
  auto target = prepare_target(options.common);
  if (!target) return report_failure("connections", target.error());
  std::optional<std::uint64_t> rss_before;
  if (options.server_pid > 0) {
    rss_before = resident_kib(options.server_pid);
    if (!rss_before) {
      return report_failure(
          "connections",
          Error(Errc::InvalidArgument, fmt::format("--server-pid {}: cannot read /proc/{}/status",
                                                   options.server_pid, options.server_pid)));
    }
  }
  ConnectionsRun run(*target, options);
  Stopwatch clock;
  Status status = run.open_all();
  const double open_seconds = clock.seconds();
  if (status) status = run.hold();
  std::optional<std::uint64_t> rss_held;
  if (options.server_pid > 0) rss_held = resident_kib(options.server_pid);
  if (status) status = run.check_all();
  run.close_all();

  nlohmann::ordered_json figures = {{"bench", "connections"},
                                    {"server", target->connection.address.to_string()},
                                    {"count", options.count},
                                    {"established", run.established()},
                                    {"open_seconds", round3(open_seconds)},
                                    {"hold_s", options.hold_s},
                                    {"stayed_up", run.stayed_up()}};
  if (rss_before && rss_held) {
    figures["server_rss_before_kib"] = *rss_before;
    figures["server_rss_held_kib"] = *rss_held;
    const double per_connection =
        run.established() == 0
            ? 0.0
            : (static_cast<double>(*rss_held) - static_cast<double>(*rss_before)) /
                  static_cast<double>(run.established());
    figures["server_rss_per_connection_kib"] = round3(per_connection);
  }
  print_figures(figures);
  if (!status) return report_failure("connections", status.error());
  if (run.stayed_up() < options.count) {
    return report_failure(
        "connections",
        Error(Errc::ConnectionClosed,
              fmt::format("{} of {} connections did not stay up{}", options.count - run.stayed_up(),
                          options.count,
                          run.first_error() ? "; first error: " + run.first_error()->describe()
                                            : std::string())));
  }
  return 0;
}

}  // namespace palyra::cli::bench
