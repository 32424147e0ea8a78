// `palyra cert revoke --nats-urls`: revocation across a cluster. The
// certificates are found in PALYRA_LEDGER (every gateway's issuance ledger,
// so a device enrolled through any gateway is found) and, when a state
// directory is named, its ledger.json; their fingerprints are published to
// PALYRA_REVOKED, which every gateway watches (each closes the device's live
// connections and refuses its handshakes), and marked revoked in
// PALYRA_LEDGER. Then, with a state directory, recorded in its revoked.txt
// too (IdentityStore::record_revocations): that gateway publishes its file
// at every start, which rebuilds a lost bucket.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "palyra/common/result.hpp"
#include "palyra/identity/ledger.hpp"
#include "palyra/identity/state_dir.hpp"

namespace palyra::cluster {
class SharedState;
}

namespace palyra::cli {

struct ClusterRevocation {
  // One of the two: every unrevoked certificate of a device, or one
  // certificate by its fingerprint.
  std::string device_id;
  std::string fingerprint;
  // The state directory given explicitly (--state-dir), if any.
  std::optional<identity::StateDir> local;
};

// The entries revoked now (revoked_at_unix set). UnknownFingerprint naming
// where it looked (nothing written then); InvalidDeviceId; StorageFailed.
Result<std::vector<identity::LedgerEntry>> revoke_in_cluster(cluster::SharedState& state,
                                                             const ClusterRevocation& what,
                                                             identity::SystemTime now);

}  // namespace palyra::cli
