// palyra bench publish: N durable node.publish_event calls, C in flight;
// each counts once the daemon confirmed its seq (after the commit).
#include <fmt/format.h>

#include <vector>

#include "load_connection.hpp"
#include "palyra/runtime/protocol.hpp"
#include "publish_load.hpp"

namespace palyra::cli::bench {
namespace {

// Calls per connection: the protocol's stream limit is 32, keep headroom.
constexpr std::uint64_t kCallsPerConnection = 32;

class PublishRun {
 public:
  PublishRun(Target& target, std::uint64_t count, std::uint64_t concurrency,
             std::uint64_t event_bytes, std::string_view what)
      : target_(target),
        count_(count),
        concurrency_(concurrency),
        request_(runtime::encode_publish_request("bench.event", payload_of_size(event_bytes))),
        progress_(std::string(what), "events", count) {
    figures_.latencies.reserve(count);
  }

  Status connect() {
    const std::uint64_t wanted = (concurrency_ + kCallsPerConnection - 1) / kCallsPerConnection;
    auto connections = open_established(target_, wanted, closed_);
    if (!connections) return std::move(connections).error();
    connections_ = std::move(*connections);
    return {};
  }

  Status run() {
    Stopwatch clock;
    for (std::uint64_t i = 0; i < concurrency_ && issued_ < count_; ++i)
      issue(i % connections_.size());
    Status finished = run_until(
        *target_.loop, [this] { return done_ == count_ || closed_; }, target_.time_limit,
        "the publish run");
    figures_.seconds = clock.seconds();
    for (auto& connection : connections_) connection->close();
    if (!finished) return finished;
    if (closed_ && done_ < count_) return *closed_;
    return {};
  }

  PublishFigures take_figures() { return std::move(figures_); }

 private:
  void issue(std::size_t slot) {
    ++issued_;
    const auto started = Clock::now();
    auto seq = std::make_shared<std::uint64_t>(0);
    connections_[slot]->call(
        request_,
        [seq](std::string&& frame) {
          auto response = runtime::parse_response(frame);
          if (response && response->kind == "published" && response->ok && response->seq)
            *seq = *response->seq;
        },
        [this, slot, started, seq](const Status& outcome) {
          ++done_;
          if (outcome && *seq != 0) {
            ++figures_.published;
            figures_.latencies.add(Clock::now() - started);
            figures_.first_seq =
                figures_.first_seq == 0 ? *seq : std::min(figures_.first_seq, *seq);
            figures_.last_seq = std::max(figures_.last_seq, *seq);
          } else {
            ++figures_.failed;
            if (!figures_.first_error) {
              figures_.first_error =
                  outcome ? Error(Errc::FrameReadFailed, "a publish was not confirmed")
                          : outcome.error();
            }
          }
          progress_.update(done_);
          if (issued_ < count_ && !closed_) issue(slot);
        });
  }

  Target& target_;
  const std::uint64_t count_;
  const std::uint64_t concurrency_;
  const std::string request_;
  Progress progress_;
  std::vector<std::unique_ptr<LoadConnection>> connections_;
  PublishFigures figures_;
  std::uint64_t issued_ = 0;
  std::uint64_t done_ = 0;
  std::optional<Error> closed_;
};

}  // namespace

Result<PublishFigures> publish_load(Target& target, std::uint64_t count, std::uint64_t concurrency,
                                    std::uint64_t event_bytes, std::string_view what) {
  PublishRun run(target, count, concurrency, event_bytes, what);
  PALYRA_TRY(run.connect());
  PALYRA_TRY(run.run());
  return run.take_figures();
}

int run_publish(const PublishOptions& options) {
  if (options.count == 0 || options.concurrency == 0) {
    return report_failure("publish",
                          Error(Errc::InvalidArgument, "--count and --concurrency must be > 0"));
  }
  auto target = prepare_target(options.common);
  if (!target) return report_failure("publish", target.error());
  auto figures =
      publish_load(*target, options.count, options.concurrency, options.event_bytes, "publish");
  if (!figures) return report_failure("publish", figures.error());
  print_figures(
      {{"bench", "publish"},
       {"server", target->connection.address.to_string()},
       {"count", options.count},
       {"concurrency", options.concurrency},
       {"event_bytes", options.event_bytes},
       {"published", figures->published},
       {"failed", figures->failed},
       {"first_seq", figures->first_seq},
       {"last_seq", figures->last_seq},
       {"seconds", round3(figures->seconds)},
       {"publishes_per_s", round3(static_cast<double>(figures->published) / figures->seconds)},
       {"p50_ms", figures->latencies.percentile_ms(50)},
       {"p99_ms", figures->latencies.percentile_ms(99)}});
  if (figures->first_error) return report_failure("publish", *figures->first_error);
  return 0;
}

}  // namespace palyra::cli::bench
