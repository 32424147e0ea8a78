// The daemon's own certificate: present and not about to expire, or
// reissued from the gateway CA at start.
#pragma once

#include <chrono>
#include <string>

#include "palyra/common/clock.hpp"
#include "palyra/common/result.hpp"
#include "palyra/identity/state_dir.hpp"

namespace palyra::daemon {

struct ServerCertificateStatus {
  bool reissued = false;
  std::string reason;       // why it was reissued ("missing", "expires in 3 days")
  std::string fingerprint;  // of the certificate in use
  SystemTime not_after;
};

// Uses <state>/server/ as it is unless the certificate is missing, unreadable,
// or expires within `renew_before` of `now`; then issues a new one from the CA with
// the old one's names (or localhost, 127.0.0.1 and ::1 when there was none).
// NotFound ("run palyra init") when there is no CA.
Result<ServerCertificateStatus> ensure_server_certificate(const identity::StateDir& dir,
                                                          std::chrono::seconds renew_before,
                                                          SystemTime now);

}  // namespace palyra::daemon
