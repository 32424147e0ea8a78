// `palyra cert device --nats-urls`: a device certificate issued by hand
// enters the cluster at once, as its gateway would bring it in at its next
// start: its ledger entry goes into PALYRA_LEDGER (so `palyra cert revoke
// --nats-urls` finds it from any host) and its device id is claimed in
// PALYRA_DEVICES (so no other gateway enrolls another node under that id
// while the certificate is valid).
#pragma once

#include <string_view>

#include "palyra/common/result.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/state_dir.hpp"

namespace palyra::cluster {
class SharedState;
}

namespace palyra::cli {

// Shares the device certificate `fingerprint` of `dir`'s ledger. The claim
// is kept unless a valid certificate lasting as long or longer holds the id
// (DeviceClaims::keep). UnknownFingerprint if the ledger lacks it;
// StorageFailed; InvalidArgument in a build without cluster mode.
Status share_issued_device(cluster::SharedState& state, const identity::StateDir& dir,
                           std::string_view fingerprint, identity::SystemTime now);

}  // namespace palyra::cli
