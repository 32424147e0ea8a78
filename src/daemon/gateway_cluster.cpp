#include "gateway_cluster.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <string_view>
#include <unordered_set>

#include "palyra/common/clock.hpp"
#include "palyra/identity/ledger.hpp"
#include "palyra/identity/token_store.hpp"
#if PALYRA_JETSTREAM
#include "palyra/cluster/shared_state.hpp"
#endif

namespace palyra::daemon {

cluster::NatsServers nats_servers(const Config& config) {
  cluster::NatsServers servers;
  std::string_view urls = config.journal_nats_urls;
  while (!urls.empty()) {
    const auto comma = urls.find(',');
    std::string_view url = urls.substr(0, comma);
    urls = comma == std::string_view::npos ? std::string_view{} : urls.substr(comma + 1);
    while (!url.empty() && url.front() == ' ') url.remove_prefix(1);
    while (!url.empty() && url.back() == ' ') url.remove_suffix(1);
    if (!url.empty()) servers.urls.emplace_back(url);
  }
  servers.tls.ca_file = config.journal_nats_tls_ca;
  servers.tls.cert_file = config.journal_nats_tls_cert;
  servers.tls.key_file = config.journal_nats_tls_key;
  return servers;
}

int nats_replicas(const Config& config) {
  if (config.journal_nats_replicas != 0) return static_cast<int>(config.journal_nats_replicas);
  // Three replicas where there are three servers to hold them: an event
  // acknowledged by a quorum outlives the loss of any one.
  return nats_servers(config).urls.size() >= 3 ? 3 : 1;
}

#if PALYRA_JETSTREAM

Result<std::unique_ptr<GatewayCluster>> GatewayCluster::join(
    const Config& config, const identity::StateDir& dir, identity::RevocationIndex& revocations,
    transport::EventLoop& loop, std::shared_ptr<const Clock> clock, OnRevoked on_revoked) {
  cluster::SharedStateOptions options;
  options.servers = nats_servers(config);
  options.create_with_replicas = nats_replicas(config);
  options.client_name = "palyrad " + dir.root.string();
  auto state = cluster::SharedState::open(options);
  if (!state) return std::move(state).error();

  // Ours first, so that a gateway joining after a bucket was lost brings
  // back what was revoked through it.
  PALYRA_TRY((*state)->publish_revocations(revocations.fingerprints(), unix_seconds(clock->now())));
  auto ledger = identity::Ledger::load(dir.ledger());
  if (!ledger) return std::move(ledger).error();
  PALYRA_TRY((*state)->merge_ledger(ledger->entries()));
  // Devices issued here before the claims existed, or by `palyra cert
  // device`/`palyra init`: their ids are claimed for their valid
  // certificates, so that no other gateway gives them out.
  auto claims = (*state)->device_claims();
  for (const auto& entry : ledger->entries()) PALYRA_TRY(claims->keep(entry, clock->now()));

  // The index is the daemon's and lives on its loop: the watch's thread only
  // posts there. `revocations` outlives the cluster (the daemon's order).
  auto everything = (*state)->watch_revocations(
      [&loop, &revocations, on_revoked = std::move(on_revoked)](std::string fingerprint) {
        loop.post([&revocations, on_revoked, fingerprint = std::move(fingerprint)] {
          auto added = revocations.merge({fingerprint});
          if (!added) {
            spdlog::error("cluster: refusing to merge revocation '{}': {}", fingerprint,
                          added.error().describe());
            return;
          }
          if (!added->empty()) on_revoked(*added);
        });
      });
  if (!everything) return std::move(everything).error();
  auto merged = revocations.merge(*everything);
  if (!merged) return std::move(merged).error();
  spdlog::info("cluster: joined; {} revoked in the cluster, {} of them not in revoked.txt",
               everything->size(), merged->size());

  auto local_tokens = identity::FileTokenStore(dir).list();
  if (local_tokens) {
    const auto now = unix_seconds(clock->now());
    const auto usable =
        std::count_if(local_tokens->begin(), local_tokens->end(),
                      [&](const auto& t) { return identity::token_usable(t, now); });
    if (usable > 0) {
      spdlog::warn(
          "cluster: {} holds {} usable enrollment token(s) that no gateway accepts in cluster "
          "mode; create tokens with `palyra token create --nats-urls ...`",
          dir.tokens().string(), usable);
    }
  }
  return std::unique_ptr<GatewayCluster>(
      new GatewayCluster(dir, std::move(clock), std::move(*state)));
}

GatewayCluster::~GatewayCluster() = default;

void GatewayCluster::configure(runtime::EnrollmentOptions& options) const {
  options.tokens = state_->tokens();
  options.device_claims = state_->device_claims();
  options.on_issued = [state = state_](const identity::LedgerEntry& entry) {
    if (auto recorded = state->record_issued(entry); !recorded) {
      // The ledger file has it; the next start merges it into the bucket.
      spdlog::warn("cluster: certificate {} not in the shared ledger yet: {}", entry.fingerprint,
                   recorded.error().describe());
    }
  };
}

namespace {

// How long a revocation the cluster did not take waits before the next try:
// doubling from the first, up to the last.
constexpr std::chrono::milliseconds kFirstRetry{1000};
constexpr std::chrono::milliseconds kLastRetry{30'000};

// Revocations made through this state directory, on their way into the
// cluster. Tried until the cluster takes them: one made while NATS is away
// must reach the other gateways once it is back, not at this gateway's next
// start.
struct RevocationsToPublish {
  std::vector<std::string> fingerprints;
  identity::StateDir dir;
  std::int64_t revoked_at_unix = 0;
  std::chrono::milliseconds next_retry = kFirstRetry;
  int attempt = 1;

  void operator()(cluster::SharedState& state) {
    if (auto published = state.publish_revocations(fingerprints, revoked_at_unix); !published) {
      spdlog::error("cluster: {} revocation(s) not published (attempt {}, again in {} s): {}",
                    fingerprints.size(), attempt, next_retry.count() / 1000,
                    published.error().describe());
      RevocationsToPublish again = *this;
      again.next_retry = std::min(next_retry * 2, kLastRetry);
      ++again.attempt;
      state.in_background(std::move(again), next_retry);
      return;
    }
    if (attempt > 1) {
      spdlog::info("cluster: {} revocation(s) published at attempt {}", fingerprints.size(),
                   attempt);
    }
    mark_in_shared_ledger(state);
  }

  void mark_in_shared_ledger(cluster::SharedState& state) const {
    auto ledger = identity::Ledger::load(dir.ledger());
    if (!ledger) return;
    const std::unordered_set<std::string> wanted(fingerprints.begin(), fingerprints.end());
    std::vector<identity::LedgerEntry> revoked;
    for (const auto& entry : ledger->entries()) {
      if (wanted.count(entry.fingerprint) != 0) revoked.push_back(entry);
    }
    if (auto marked = state.merge_ledger(revoked); !marked) {
      spdlog::warn("cluster: shared ledger not marked revoked: {}", marked.error().describe());
    }
  }
};

}  // namespace

void GatewayCluster::revoked_here(const std::vector<std::string>& fingerprints) {
  state_->in_background(RevocationsToPublish{fingerprints, dir_, unix_seconds(clock_->now())});
}

#else

Result<std::unique_ptr<GatewayCluster>> GatewayCluster::join(
    const Config&, const identity::StateDir&, identity::RevocationIndex&, transport::EventLoop&,
    std::shared_ptr<const Clock>, OnRevoked) {
  return Error(Errc::InvalidArgument,
               "this build has no cluster mode (built without libnats): journal.backend = "
               "jetstream is refused");
}
GatewayCluster::~GatewayCluster() = default;
void GatewayCluster::configure(runtime::EnrollmentOptions&) const {}
void GatewayCluster::revoked_here(const std::vector<std::string>&) {}

#endif

}  // namespace palyra::daemon
