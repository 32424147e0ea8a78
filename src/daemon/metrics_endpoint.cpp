#include "metrics_endpoint.hpp"

#include <fmt/format.h>
#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <exception>
#include <mutex>

#include "metrics_families.hpp"

#ifndef PALYRA_VERSION
#error "PALYRA_VERSION is defined by src/daemon/CMakeLists.txt"
#endif

namespace palyra::daemon {

// Bridges a scrape to the daemon: asks for a snapshot and renders it.
class MetricsEndpoint::SnapshotCollectable : public prometheus::Collectable {
 public:
  void set(SnapshotSource collect) {
    std::lock_guard lock(mutex_);
    collect_ = std::move(collect);
  }
  std::vector<prometheus::MetricFamily> Collect() const override {
    MetricsEndpoint::SnapshotSource collect;
    {
      std::lock_guard lock(mutex_);
      collect = collect_;
    }
    if (!collect) return {};
    auto snapshot = collect();
    if (!snapshot) return {};
    return metric_families(*snapshot, PALYRA_VERSION);
  }

 private:
  mutable std::mutex mutex_;
  MetricsEndpoint::SnapshotSource collect_;
};

namespace {

// civetweb's "127.0.0.1:0" with the port it chose.
std::string with_port(const std::string& listen, int port) {
  return fmt::format("{}:{}", listen.substr(0, listen.rfind(':')), port);
}

// Append latency: from append() to durable, a few hundred microseconds on
// a fast disk, tens of milliseconds on a slow one.
prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
}
// Group commit: appends per commit, up to JournalOptions::max_batch (1,024).
prometheus::Histogram::BucketBoundaries batch_buckets() {
  return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
}

}  // namespace

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::start(const std::string& listen) {
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  try {
    // civetweb reports a listener it cannot bind by throwing.
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(listen, /*num_threads=*/1);
  } catch (const std::exception& e) {
    return Error(Errc::EndpointBindFailed,
                 fmt::format("metrics.listen {}: cannot listen: {}", listen, e.what()));
  }
  const auto ports = endpoint->exposer_->GetListeningPorts();
  if (ports.empty()) {
    return Error(Errc::EndpointBindFailed, fmt::format("metrics.listen {}: no port bound", listen));
  }
  endpoint->local_address_ = with_port(listen, ports.front());

  endpoint->registry_ = std::make_shared<prometheus::Registry>();
  endpoint->append_latency_ = &prometheus::BuildHistogram()
                                   .Name("palyra_journal_append_latency_seconds")
                                   .Help("time from a journal append to its commit being durable")
                                   .Register(*endpoint->registry_)
                                   .Add({}, latency_buckets());
  endpoint->batch_size_ = &prometheus::BuildHistogram()
                               .Name("palyra_journal_commit_batch_size")
                               .Help("appends per group commit of the journal")
                               .Register(*endpoint->registry_)
                               .Add({}, batch_buckets());
  endpoint->snapshots_ = std::make_shared<SnapshotCollectable>();
  endpoint->exposer_->RegisterCollectable(endpoint->snapshots_);
  endpoint->exposer_->RegisterCollectable(endpoint->registry_);
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() {
  // The listener first: no scrape may run into what follows it.
  exposer_.reset();
}

void MetricsEndpoint::set_collect(SnapshotSource collect) {
  snapshots_->set(std::move(collect));
}

journal::JournalOptions::CommitObserver MetricsEndpoint::commit_observer() const {
  return [registry = registry_, latency = append_latency_, batch = batch_size_](
             std::size_t batch_size, std::span<const std::chrono::nanoseconds> latencies) {
    batch->Observe(static_cast<double>(batch_size));
    for (auto each : latencies) latency->Observe(std::chrono::duration<double>(each).count());
  };
}

}  // namespace palyra::daemon
