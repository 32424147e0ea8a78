// The state the gateways of a cluster share, in NATS JetStream key-value
// buckets (docs/OPERATIONS.md, "Cluster mode"):
//
//   PALYRA_REVOKED  key: a certificate's SHA-256 fingerprint; value: when it
//                   was first revoked (unix seconds). Every gateway watches
//                   it and refuses what it holds.
//   PALYRA_TOKENS   key: an enrollment token's id; value: its TokenRecord as
//                   JSON. Consumed with compare-and-set on the revision.
//   PALYRA_LEDGER   key: a certificate's fingerprint; value: its LedgerEntry
//                   as JSON (revoked_at_unix once revoked): every gateway's
//                   issuance ledger, whole.
//   PALYRA_DEVICES  key: a device id ('.' written '='); value: its claim as
//                   JSON: the certificate that holds the id, or the
//                   enrollment taking it (src/cluster/kv_device_claims.hpp).
//                   Taken and moved with compare-and-set: two gateways never
//                   hand one id to two nodes.
//
// One connection to the cluster, and one thread of its own that watches
// PALYRA_REVOKED and runs the blocking calls the daemon hands it (the
// daemon's loop never waits for NATS).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "palyra/cluster/nats_servers.hpp"
#include "palyra/common/result.hpp"
#include "palyra/identity/device_claims.hpp"
#include "palyra/identity/ledger.hpp"
#include "palyra/identity/token_store.hpp"

namespace palyra::cluster {

inline constexpr const char* kRevokedBucket = "PALYRA_REVOKED";
inline constexpr const char* kTokensBucket = "PALYRA_TOKENS";
inline constexpr const char* kLedgerBucket = "PALYRA_LEDGER";
inline constexpr const char* kDevicesBucket = "PALYRA_DEVICES";

struct SharedStateOptions {
  NatsServers servers;
  // Buckets missing are created with this many replicas (a gateway:
  // journal.nats_replicas). None: only existing buckets are used, NotFound
  // otherwise (the CLI, which must not create them with the wrong replicas).
  std::optional<int> create_with_replicas;
  std::string client_name = "palyra";  // what the servers show for this client
};

class SharedState : public std::enable_shared_from_this<SharedState> {
 public:
  // Connects and binds (or creates) the four buckets. StorageFailed,
  // NotFound (see create_with_replicas), InvalidArgument (TLS settings).
  static Result<std::shared_ptr<SharedState>> open(const SharedStateOptions& options);
  // Stops the watch and the background work (a call in progress finishes).
  ~SharedState();
  SharedState(const SharedState&) = delete;
  SharedState& operator=(const SharedState&) = delete;

  // The token bucket as a TokenStore; it keeps this object alive.
  std::shared_ptr<identity::TokenStore> tokens();
  // The device-id claims (PALYRA_DEVICES) for enrollment; they keep this
  // object alive. Their calls block: the enrollment worker makes them.
  std::shared_ptr<identity::DeviceClaims> device_claims();

  // Adds fingerprints to PALYRA_REVOKED; one already there keeps its first
  // revocation time. Blocks.
  Status publish_revocations(const std::vector<std::string>& fingerprints,
                             std::int64_t revoked_at_unix);
  // Starts watching PALYRA_REVOKED (once): returns every fingerprint in it
  // now, then calls `on_revoked` on the background thread with each one added
  // later (by any gateway, this one included). Deleting a key revokes nothing
  // back: a revocation is permanent. Blocks until the bucket's content is read.
  Result<std::vector<std::string>> watch_revocations(
      std::function<void(std::string fingerprint)> on_revoked);

  // Writes an entry into PALYRA_LEDGER (the certificate was just issued).
  Status record_issued(const identity::LedgerEntry& entry);
  // Brings a gateway's own ledger into PALYRA_LEDGER: entries it lacks are
  // added, and those revoked here are marked revoked there (compare-and-set,
  // the first revocation time kept). Blocks.
  Status merge_ledger(const std::vector<identity::LedgerEntry>& entries);
  // Every entry of PALYRA_LEDGER, ordered by not_before then fingerprint.
  Result<std::vector<identity::LedgerEntry>> ledger();

  // Runs `work` on the background thread, off the caller's loop, once
  // `delay` has passed (work that is due runs in the order it was queued).
  // Thread-safe. Work still queued at destruction is dropped.
  void in_background(std::function<void(SharedState&)> work,
                     std::chrono::milliseconds delay = std::chrono::milliseconds(0));

 private:
  struct Parts;
  explicit SharedState(std::unique_ptr<Parts> parts);
  void background_loop();

  std::unique_ptr<Parts> parts_;
};

}  // namespace palyra::cluster
