#include "cluster_issuance.hpp"

#include <fmt/format.h>

#include "palyra/identity/ledger.hpp"
#if PALYRA_JETSTREAM
#include "palyra/cluster/shared_state.hpp"
#endif

namespace palyra::cli {

#if PALYRA_JETSTREAM

Status share_issued_device(cluster::SharedState& state, const identity::StateDir& dir,
                           std::string_view fingerprint, identity::SystemTime now) {
  auto ledger = identity::Ledger::load(dir.ledger());
  if (!ledger) return std::move(ledger).error();
  const identity::LedgerEntry* issued = ledger->find(fingerprint);
  if (issued == nullptr) {
    return Error(Errc::UnknownFingerprint, fmt::format("no certificate with fingerprint {} in {}",
                                                       fingerprint, dir.ledger().string()));
  }
  PALYRA_TRY(state.merge_ledger({*issued}));
  return state.device_claims()->keep(*issued, now);
}

#else

Status share_issued_device(cluster::SharedState&, const identity::StateDir&, std::string_view,
                           identity::SystemTime) {
  return Error(Errc::InvalidArgument,
               "--nats-urls: this build has no cluster mode (built without libnats)");
}

#endif

}  // namespace palyra::cli
