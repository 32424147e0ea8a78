// A gateway's part in a cluster (journal.backend = jetstream): the state it
// shares with the other gateways through the NATS JetStream cluster
// (palyra/cluster/shared_state.hpp) wired into the daemon.
//
// - Revocations: at start, this state directory's revoked.txt goes into
//   PALYRA_REVOKED and everything there is merged into the revocation index
//   before the first handshake; from then on every fingerprint any gateway
//   adds is merged on the daemon's loop, and the daemon closes that
//   device's live connections. Revocations found in revoked.txt later
//   (SIGHUP, or the file changed) are published by revoked_here().
// - Enrollment tokens are consumed from PALYRA_TOKENS (tokens.json is not
//   used in cluster mode: a warning says so if it holds usable tokens).
// - Certificates issued by enrollment and renewal go to PALYRA_LEDGER too;
//   at start the local ledger is merged into it, and revoked_here() marks
//   the revoked entries there.
// - A device id a node asks for is claimed in PALYRA_DEVICES (besides the
//   local ledger's check), and the claim follows the device's renewals; at
//   start the valid device certificates of the local ledger claim their ids.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config.hpp"
#include "palyra/cluster/nats_servers.hpp"
#include "palyra/common/clock.hpp"
#include "palyra/identity/revocation.hpp"
#include "palyra/identity/state_dir.hpp"
#include "palyra/runtime/enrollment_service.hpp"
#include "palyra/transport/io/event_loop.hpp"

namespace palyra::cluster {
class SharedState;
}

namespace palyra::daemon {

// journal.nats_urls (comma-separated, spaces around each url ignored) and
// journal.nats_tls_*, as the journal and the shared state connect.
cluster::NatsServers nats_servers(const Config& config);
// journal.nats_replicas, for the stream and the buckets: 0 means 3 when
// journal.nats_urls names at least three servers, else 1.
int nats_replicas(const Config& config);

class GatewayCluster {
 public:
  // Called on the loop with the fingerprints the cluster revoked that the
  // index did not hold yet (already merged into it).
  using OnRevoked = std::function<void(const std::vector<std::string>& added)>;

  // Connects, creates the buckets if missing (journal.nats_replicas), and
  // does what the header says happens at start. Blocks (at start only).
  // StorageFailed, NotFound; InvalidArgument in builds without libnats.
  static Result<std::unique_ptr<GatewayCluster>> join(
      const Config& config, const identity::StateDir& dir, identity::RevocationIndex& revocations,
      transport::EventLoop& loop, std::shared_ptr<const Clock> clock, OnRevoked on_revoked);
  ~GatewayCluster();
  GatewayCluster(const GatewayCluster&) = delete;
  GatewayCluster& operator=(const GatewayCluster&) = delete;

  // The shared token bucket, the device-id claims and the shared ledger for
  // enrollment.
  void configure(runtime::EnrollmentOptions& options) const;
  // Publishes fingerprints revoked through this state directory and marks
  // them in the shared ledger, off the loop. While the cluster does not take
  // them (NATS away), tried again after 1 s, doubling up to every 30 s, each
  // failure logged; the next start publishes the whole file again too.
  void revoked_here(const std::vector<std::string>& fingerprints);

 private:
  GatewayCluster(identity::StateDir dir, std::shared_ptr<const Clock> clock,
                 std::shared_ptr<cluster::SharedState> state)
      : dir_(std::move(dir)), clock_(std::move(clock)), state_(std::move(state)) {}

  identity::StateDir dir_;
  std::shared_ptr<const Clock> clock_;  // when a revocation was first published
  std::shared_ptr<cluster::SharedState> state_;
};

}  // namespace palyra::daemon
