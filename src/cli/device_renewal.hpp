// A node renews its own certificate (PROTOCOL.md §4 node.renew_certificate):
// a new key of the current one's type generated here, a CSR, the daemon's
// answer stored as one unit (identity::store_device_identity). Used by
// `palyra cert renew` and by a following `palyra events`.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <random>

#include "connection_options.hpp"
#include "palyra/common/result.hpp"
#include "palyra/identity/certificate.hpp"

namespace palyra::cli {

// When to renew a certificate valid from `not_before` to `not_after`: at
// 2/3 of its lifetime (counted from when it was issued, after the daemon's
// one-minute backdating), moved by up to ±10 % of the lifetime (`jitter` in
// [-1, 1]) so a fleet enrolled together does not renew together.
identity::SystemTime renewal_time(identity::SystemTime not_before, identity::SystemTime not_after,
                                  double jitter);

class DeviceRenewer {
 public:
  // `connection` must name a device in a state directory (state_dir set).
  explicit DeviceRenewer(ResolvedConnection connection);

  // The certificate in use now. An expired one is NotFound saying how to
  // recover (it cannot renew: its handshake would fail).
  Result<identity::Certificate> current() const;
  // Renews once, now; returns the new certificate.
  Result<identity::Certificate> renew_once();
  // Renews at renewal_time() of each certificate, retrying with backoff
  // (1 s doubling to 60 s) on failure, until `stop` is set (Ok) or the
  // certificate expired before a renewal succeeded (the error says how to
  // recover). `on_renewed` runs after each renewal, on this thread.
  Status run(const std::atomic<bool>& stop,
             const std::function<void(const identity::Certificate&)>& on_renewed);

 private:
  ResolvedConnection connection_;
  std::mt19937_64 random_;
};

}  // namespace palyra::cli
