// palyrad's Prometheus endpoint: /metrics in the text exposition format on
// its own TCP listener (prometheus-cpp's civetweb-based Exposer, one
// thread). Only the daemon uses prometheus-cpp; the parts below it keep
// plain counters, read through `collect` at each scrape.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "metrics_snapshot.hpp"
#include "palyra/common/result.hpp"
#include "palyra/journal/journal.hpp"

namespace prometheus {
class Exposer;
class Registry;
class Histogram;
}  // namespace prometheus

namespace palyra::daemon {

class MetricsEndpoint {
 public:
  // Called on the endpoint's thread at each scrape; nothing when the
  // snapshot could not be taken in time (the scrape then shows only the
  // histograms and palyra_build_info's absence tells the operator).
  using SnapshotSource = std::function<std::optional<MetricsSnapshot>()>;

  // Listens on `listen` ("127.0.0.1:9744", "[::1]:0"). EndpointBindFailed
  // naming the address when it cannot.
  static Result<std::unique_ptr<MetricsEndpoint>> start(const std::string& listen);
  // Stops the listener; waits for a scrape in progress.
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // Scrapes call `collect` from now on (until then they show the histograms).
  void set_collect(SnapshotSource collect);
  // "127.0.0.1:40123": the address asked for with the port actually bound.
  const std::string& local_address() const noexcept { return local_address_; }

  // For JournalOptions::on_commit_observed: records each commit's batch size
  // and each append's time to durable. Thread-safe, and it keeps the
  // histograms alive on its own (the journal may outlive this endpoint).
  journal::JournalOptions::CommitObserver commit_observer() const;

 private:
  class SnapshotCollectable;
  MetricsEndpoint() = default;

  std::string local_address_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<SnapshotCollectable> snapshots_;
  prometheus::Histogram* append_latency_ = nullptr;  // owned by registry_
  prometheus::Histogram* batch_size_ = nullptr;
};

}  // namespace palyra::daemon
