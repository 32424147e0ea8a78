// palyra bench rpc: one connection, N node.health calls on fresh streams, C
// in flight. One warm-up call is not counted.
#include <fmt/format.h>

#include <optional>

#include "figures.hpp"
#include "load_connection.hpp"
#include "target.hpp"

namespace palyra::cli::bench {
namespace {

class RpcRun {
 public:
  RpcRun(Target& target, const RpcOptions& options)
      : target_(target), options_(options), progress_("rpc", "calls", options.count) {
    latencies_.reserve(options.count);
  }

  Status connect() {
    auto connections = open_established(target_, 1, closed_);
    if (!connections) return std::move(connections).error();
    connection_ = std::move(connections->front());
    // Warm-up: the first call also settles flow-control windows.
    bool warm = false;
    issue([&warm](bool) { warm = true; });
    PALYRA_TRY(run_until(
        *target_.loop, [&] { return warm || closed_; }, target_.time_limit, "the warm-up call"));
    if (closed_) return *closed_;
    return {};
  }

  Status run() {
    clock_.restart();
    for (std::uint64_t i = 0; i < options_.concurrency && issued_ < options_.count; ++i)
      issue_counted();
    Status finished = run_until(
        *target_.loop, [this] { return done_ == options_.count || closed_; }, target_.time_limit,
        "the rpc run");
    seconds_ = clock_.seconds();
    if (!finished) return finished;
    if (closed_) return *closed_;
    connection_->close();
    return {};
  }

  nlohmann::ordered_json figures() {
    return {{"bench", "rpc"},
            {"server", target_.connection.address.to_string()},
            {"count", options_.count},
            {"concurrency", options_.concurrency},
            {"completed", latencies_.count()},
            {"failed", failed_},
            {"seconds", round3(seconds_)},
            {"rpcs_per_s", round3(static_cast<double>(latencies_.count()) / seconds_)},
            {"p50_us", latencies_.percentile_us(50)},
            {"p99_us", latencies_.percentile_us(99)}};
  }
  const std::optional<Error>& first_error() const { return first_error_; }

 private:
  // One node.health; `done(healthy)` when its stream ends.
  void issue(std::function<void(bool)> done) {
    call_health(*connection_, [this, done = std::move(done)](const Status& outcome, bool healthy) {
      if (!outcome && !first_error_) first_error_ = outcome.error();
      done(outcome.ok() && healthy);
    });
  }

  void issue_counted() {
    ++issued_;
    const auto started = Clock::now();
    issue([this, started](bool healthy) {
      ++done_;
      if (healthy) {
        latencies_.add(Clock::now() - started);
      } else {
        ++failed_;
        if (!first_error_)
          first_error_ = Error(Errc::FrameReadFailed, "a call got no health response");
      }
      progress_.update(done_);
      if (issued_ < options_.count && !closed_) issue_counted();
    });
  }

  Target& target_;
  const RpcOptions& options_;
  Progress progress_;
  std::unique_ptr<LoadConnection> connection_;
  LatencySamples latencies_;
  Stopwatch clock_;
  double seconds_ = 0;
  std::uint64_t issued_ = 0;
  std::uint64_t done_ = 0;
  std::uint64_t failed_ = 0;
  std::optional<Error> closed_;
  std::optional<Error> first_error_;
};

}  // namespace

int run_rpc(const RpcOptions& options) {
  if (options.count == 0 || options.concurrency == 0) {
    return report_failure("rpc",
                          Error(Errc::InvalidArgument, "--count and --concurrency must be > 0"));
  }
  auto target = prepare_target(options.common);
  if (!target) return report_failure("rpc", target.error());
  RpcRun run(*target, options);
  if (Status connected = run.connect(); !connected) return report_failure("rpc", connected.error());
  Status status = run.run();
  print_figures(run.figures());
  if (!status) return report_failure("rpc", status.error());
  if (run.first_error()) return report_failure("rpc", *run.first_error());
  return 0;
}

}  // namespace palyra::cli::bench
