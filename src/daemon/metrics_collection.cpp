// What a scrape of /metrics reads (see metrics_snapshot.hpp): the parts'
// counters on the loop's thread, where they live, and the certificates'
// expiry on the scrape's own thread, so the loop never reads a file for it.
#include <algorithm>
#include <future>
#include <map>

#include "daemon.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/ledger.hpp"
#include "palyra/identity/state_dir.hpp"

namespace palyra::daemon {
namespace {

// A scrape waits this long for the loop; a loop that busy is news itself
// (the scrape then fails and Prometheus's `up` says so).
constexpr auto kLoopWaitBound = std::chrono::seconds(1);

double seconds_between(SystemTime from, SystemTime to) {
  return std::chrono::duration<double>(to - from).count();
}

std::optional<double> certificate_expiry(const std::filesystem::path& file, SystemTime now) {
  auto certificate = identity::Certificate::from_pem_file(file);
  if (!certificate) return std::nullopt;
  return seconds_between(now, certificate->not_after());
}

// Each unrevoked device's newest certificate; the one that expires first.
std::optional<double> soonest_device_expiry(const std::filesystem::path& ledger_file,
                                            SystemTime now) {
  auto ledger = identity::Ledger::load(ledger_file);
  if (!ledger) return std::nullopt;
  std::map<std::string, const identity::LedgerEntry*> newest;
  for (const auto& entry : ledger->entries()) {
    if (entry.kind != "device") continue;
    auto& slot = newest[entry.device_id];
    if (slot == nullptr || entry.sequence > slot->sequence) slot = &entry;
  }
  std::optional<std::int64_t> soonest;
  for (const auto& [device, entry] : newest) {
    if (entry->revoked_at_unix) continue;
    if (!soonest || entry->not_after_unix < *soonest) soonest = entry->not_after_unix;
  }
  if (!soonest) return std::nullopt;
  return seconds_between(now, SystemTime(std::chrono::seconds(*soonest)));
}

}  // namespace

MetricsSnapshot Daemon::metrics_on_loop() const {
  MetricsSnapshot snapshot;
  if (quic_) {
    snapshot.quic = quic_->stats();
    snapshot.quic_worker_connections.push_back(quic_->connection_count());
  }
  snapshot.journal_newest_seq = journal_->newest_seq();
  snapshot.journal_queue_depth = journal_->queued_appends();
  snapshot.journal_retention_removed = journal_->removed_by_retention();
  snapshot.followers = service_->follower_stats();
  snapshot.enrollments = enrollment_->enrollments();
  snapshot.renewals = enrollment_->renewals();
  return snapshot;
}

// The other workers' numbers, asked from the scrape's thread (their loops
// answer it directly): summed into the daemon's, and each worker's
// connections apart.
void Daemon::add_worker_metrics(MetricsSnapshot& snapshot) {
  if (!quic_threads_ || !snapshot.quic) return;
  struct Answer {
    transport::ServerStats stats;
    std::size_t connections = 0;
    runtime::NodeService::FollowerStats followers;
  };
  auto answers = quic_threads_->ask_each<Answer>(
      [](runtime::QuicFrontend& q, runtime::NodeService& s) {
        return Answer{q.stats(), q.connection_count(), s.follower_stats()};
      },
      kLoopWaitBound);
  for (const auto& answer : answers) {
    // A worker that did not answer shows no connections this time.
    snapshot.quic_worker_connections.push_back(answer ? answer->connections : 0);
    if (!answer) continue;
    transport::add_stats(*snapshot.quic, answer->stats);
    snapshot.followers.followers += answer->followers.followers;
    snapshot.followers.slowest_lag =
        std::max(snapshot.followers.slowest_lag, answer->followers.slowest_lag);
  }
}

std::optional<MetricsSnapshot> Daemon::collect_metrics() {
  auto promise = std::make_shared<std::promise<MetricsSnapshot>>();
  auto taken = promise->get_future();
  loop_->post([this, promise] { promise->set_value(metrics_on_loop()); });
  if (taken.wait_for(kLoopWaitBound) != std::future_status::ready) return std::nullopt;
  MetricsSnapshot snapshot = taken.get();
  add_worker_metrics(snapshot);
  if (grpc_) snapshot.grpc_calls = grpc_->call_counts();  // thread-safe, off the loop
  const identity::StateDir dir{config_.state_dir};
  const SystemTime now = clock_->now();
  snapshot.server_certificate_expiry_s = certificate_expiry(dir.server_chain(), now);
  snapshot.ca_expiry_s = certificate_expiry(dir.ca_cert(), now);
  snapshot.soonest_device_certificate_expiry_s = soonest_device_expiry(dir.ledger(), now);
  return snapshot;
}

}  // namespace palyra::daemon
