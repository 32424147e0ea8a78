// Which device ids are taken, when several gateways enroll (cluster mode).
// One gateway answers "does this id belong to a live device?" from its own
// ledger.json (IdentityStore::device_in_use) under its state lock; gateways
// of a cluster each have their own ledger, so they settle it through a claim
// per device id in shared state (palyra/cluster/shared_state.hpp,
// PALYRA_DEVICES), taken and moved with compare-and-set: of two enrollments
// of one id through two gateways at once, exactly one gets the claim.
#pragma once

#include <memory>
#include <string_view>

#include "palyra/common/result.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/ledger.hpp"

namespace palyra::identity {

// One enrollment's hold on a device id, from claim() until its certificate
// is issued. Destroyed without settle() (the token was refused, issuing
// failed), it gives the id back as it was before the claim; should that not
// happen (the gateway died in between), the claim lapses by itself shortly
// after it was taken (DeviceClaims implementations say how long).
class DeviceClaim {
 public:
  virtual ~DeviceClaim() = default;
  // The certificate issued for the enrollment: the claim names it from now
  // on, and holds the id for as long as it is valid and not revoked.
  virtual Status settle(const LedgerEntry& certificate) = 0;
};

class DeviceClaims {
 public:
  virtual ~DeviceClaims() = default;

  // Takes `device_id` for an enrollment in progress. AlreadyExists when an
  // unexpired, unrevoked certificate holds it, or another enrollment does
  // right now, unless `replace` (the token is bound to this id: it enrolls
  // whatever holds it, which is how a node is replaced). StorageFailed.
  virtual Result<std::unique_ptr<DeviceClaim>> claim(std::string_view device_id, bool replace,
                                                     SystemTime now) = 0;
  // A device certificate issued outside an enrollment (a renewal), or found
  // in a gateway's ledger.json at start: the device's claim names it, unless
  // it already names a valid certificate that lasts as long or longer, or an
  // enrollment in progress holds it. Revoked certificates are skipped.
  virtual Status keep(const LedgerEntry& certificate, SystemTime now) = 0;
};

}  // namespace palyra::identity
