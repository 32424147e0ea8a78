// palyra bench handshake: N new mTLS connections, C at a time, each doing one
// node.health and closing. Timed from the first packet to the health response.
#include <fmt/format.h>

#include <optional>
#include <unordered_map>

#include "figures.hpp"
#include "load_connection.hpp"
#include "target.hpp"

namespace palyra::cli::bench {
namespace {

class HandshakeRun {
 public:
  HandshakeRun(Target& target, const HandshakeOptions& options)
      : target_(target), options_(options), progress_("handshake", "connections", options.count) {
    latencies_.reserve(options.count);
  }

  Status run() {
    for (std::uint64_t i = 0; i < options_.concurrency && started_ < options_.count; ++i)
      start_one();
    return run_until(
        *target_.loop, [this] { return finished_ == options_.count; }, target_.time_limit,
        "the handshake run");
  }

  nlohmann::ordered_json figures(double seconds) {
    return {{"bench", "handshake"},
            {"server", target_.connection.address.to_string()},
            {"count", options_.count},
            {"concurrency", options_.concurrency},
            {"completed", latencies_.count()},
            {"failed", failed_},
            {"seconds", round3(seconds)},
            {"connections_per_s", round3(static_cast<double>(latencies_.count()) / seconds)},
            {"p50_ms", latencies_.percentile_ms(50)},
            {"p99_ms", latencies_.percentile_ms(99)}};
  }
  const std::optional<Error>& first_error() const { return first_error_; }

 private:
  struct Attempt {
    std::unique_ptr<LoadConnection> connection;
    Clock::time_point started;
    bool healthy = false;
    bool over = false;
  };

  void start_one() {
    const std::uint64_t id = ++started_;
    LoadConnection::Handlers handlers;
    handlers.on_established = [this, id] { on_established(id); };
    handlers.on_closed = [this, id](const Error& error) { end(id, error); };
    auto started = Clock::now();
    auto connection = open_connection(target_, std::move(handlers));
    if (!connection) {
      record_failure(connection.error());
      ++finished_;
      target_.loop->post([this] { start_next(); });
      return;
    }
    attempts_.emplace(id, Attempt{std::move(*connection), started});
  }

  void on_established(std::uint64_t id) {
    call_health(*attempts_.at(id).connection, [this, id](const Status& outcome, bool healthy) {
      Attempt& a = attempts_.at(id);
      a.healthy = healthy;
      if (healthy) latencies_.add(Clock::now() - a.started);
      if (!outcome) return end(id, outcome.error());
      if (!healthy) return end(id, Error(Errc::FrameReadFailed, "no health response"));
      a.connection->close();
      end(id, std::nullopt);
    });
  }

  // Each attempt ends once, whichever of its callbacks comes first; the
  // connection is destroyed outside its own callback.
  void end(std::uint64_t id, std::optional<Error> error) {
    auto found = attempts_.find(id);
    if (found == attempts_.end() || found->second.over) return;
    found->second.over = true;
    if (error && !found->second.healthy) record_failure(*error);
    ++finished_;
    progress_.update(finished_);
    target_.loop->post([this, id] {
      attempts_.erase(id);
      start_next();
    });
  }

  void start_next() {
    if (started_ < options_.count) start_one();
  }

  void record_failure(const Error& error) {
    ++failed_;
    if (!first_error_) first_error_ = error;
  }

  Target& target_;
  const HandshakeOptions& options_;
  Progress progress_;
  LatencySamples latencies_;
  std::unordered_map<std::uint64_t, Attempt> attempts_;
  std::uint64_t started_ = 0;
  std::uint64_t finished_ = 0;
  std::uint64_t failed_ = 0;
  std::optional<Error> first_error_;
};

}  // namespace

int run_handshake(const HandshakeOptions& options) {
  if (options.count == 0 || options.concurrency == 0) {
    return report_failure("handshake",
                          Error(Errc::InvalidArgument, "--count and --concurrency must be > 0"));
  }
  auto target = prepare_target(options.common);
  if (!target) return report_failure("handshake", target.error());
  HandshakeRun run(*target, options);
  Stopwatch clock;
  Status status = run.run();
  const double seconds = clock.seconds();
  print_figures(run.figures(seconds));
  if (!status) return report_failure("handshake", status.error());
  if (run.first_error()) return report_failure("handshake", *run.first_error());
  return 0;
}

}  // namespace palyra::cli::bench
