// Where time enters Palyra. Everything that judges time — certificate and
// token validity, event time stamps, retention by age, the enrollment
// failure lockout — reads it from a Clock it was handed, so a test can
// hand it one it moves by hand (tests/common/manual_clock.hpp) instead of
// sleeping until a certificate or an event is old enough.
//
// Objects that look at the time on their own (the journal's writer, a TLS
// context's verification, the enrollment service) hold a Clock; functions
// that decide once take `now` as an argument (identity's token and
// certificate checks), like ngtcp2 takes timestamps. Two things stay on the
// real clocks by nature: how long a thread sleeps (the journal writer's
// wake-ups, the event loop's timers) and GnuTLS's own validity checks,
// which read one process-wide time function — tests that move time point
// it at their clock with tests/common/gnutls_time.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

namespace palyra {

using SystemTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // Calendar time: what certificates, tokens and event time stamps are in.
  virtual SystemTime now() const noexcept = 0;
  // Monotonic time, for spans that must not jump when the calendar is set
  // (how long an address stays locked out).
  virtual SteadyTime steady_now() const noexcept = 0;
};

// Calendar time as milliseconds since the Unix epoch: what event time
// stamps (`published_at_unix_ms`) are in.
inline std::int64_t unix_ms(const Clock& clock) noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch())
      .count();
}

// Calendar time as whole seconds since the Unix epoch: what certificate
// validity, token expiry and revocation times are stored in (ledger,
// token files, the cluster's buckets).
inline std::int64_t unix_seconds(SystemTime t) noexcept {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// The real clocks: what production hands everywhere. One instance, alive
// for the whole program.
std::shared_ptr<const Clock> system_clock();

}  // namespace palyra
