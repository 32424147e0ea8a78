#include "cluster_revocation.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "palyra/common/clock.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/fingerprint.hpp"
#include "palyra/identity/store.hpp"
#if PALYRA_JETSTREAM
#include "palyra/cluster/shared_state.hpp"
#endif

namespace palyra::cli {

#if PALYRA_JETSTREAM

namespace {

// The certificates `what` names in `entries` (those not revoked yet, for a
// device), each once.
std::vector<identity::LedgerEntry> matching(const std::vector<identity::LedgerEntry>& entries,
                                            const ClusterRevocation& what,
                                            std::vector<identity::LedgerEntry> found) {
  for (const auto& e : entries) {
    const bool wanted =
        what.device_id.empty()
            ? e.fingerprint == what.fingerprint
            : e.kind == "device" && e.device_id == what.device_id && !e.revoked_at_unix;
    const bool known = std::any_of(found.begin(), found.end(),
                                   [&](const auto& f) { return f.fingerprint == e.fingerprint; });
    if (wanted && !known) found.push_back(e);
  }
  return found;
}

}  // namespace

Result<std::vector<identity::LedgerEntry>> revoke_in_cluster(cluster::SharedState& state,
                                                             const ClusterRevocation& what_given,
                                                             identity::SystemTime now) {
  ClusterRevocation what = what_given;
  if (!what.device_id.empty()) PALYRA_TRY(identity::validate_device_id(what.device_id));
  if (!what.fingerprint.empty()) {
    auto normalized = identity::normalize_fingerprint(what.fingerprint);
    if (!normalized) return std::move(normalized).error();
    what.fingerprint = std::move(*normalized);
  }
  auto shared = state.ledger();
  if (!shared) return std::move(shared).error();
  auto found = matching(*shared, what, {});
  // A certificate issued through this state directory whose entry has not
  // reached the bucket yet (its gateway merges it at its next start).
  if (what.local) {
    auto local = identity::Ledger::load(what.local->ledger());
    if (!local) return std::move(local).error();
    found = matching(local->entries(), what, std::move(found));
  }
  const std::string where = what.local ? fmt::format("{} nor in {}", cluster::kLedgerBucket,
                                                     what.local->ledger().string())
                                       : std::string(cluster::kLedgerBucket);
  if (found.empty() && !what.device_id.empty()) {
    return Error(
        Errc::UnknownFingerprint,
        fmt::format("device '{}' has no unrevoked certificate in {}", what.device_id, where));
  }
  if (found.empty()) {
    return Error(Errc::UnknownFingerprint,
                 fmt::format("no certificate with fingerprint {} in {}", what.fingerprint, where));
  }

  const auto now_unix = unix_seconds(now);
  std::vector<std::string> fingerprints;
  for (auto& entry : found) {
    fingerprints.push_back(entry.fingerprint);
    if (!entry.revoked_at_unix) entry.revoked_at_unix = now_unix;
  }
  // The bucket every gateway watches first: that is what closes connections.
  PALYRA_TRY(state.publish_revocations(fingerprints, now_unix));
  PALYRA_TRY(state.merge_ledger(found));
  if (what.local) {
    PALYRA_TRY(identity::IdentityStore(*what.local).record_revocations(fingerprints, now));
  }
  return found;
}

#else

Result<std::vector<identity::LedgerEntry>> revoke_in_cluster(cluster::SharedState&,
                                                             const ClusterRevocation&,
                                                             identity::SystemTime) {
  return Error(Errc::InvalidArgument,
               "--nats-urls: this build has no cluster mode (built without libnats)");
}

#endif

}  // namespace palyra::cli
