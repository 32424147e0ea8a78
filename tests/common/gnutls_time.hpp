// Points GnuTLS's own certificate time checks at a test's clock.
//
// GnuTLS 3.7 verifies a chain's activation and expiry against one
// process-wide time function (gnutls_global_set_time_function) and takes
// no time per call. A test that moves a ManualClock hands it to the TLS
// configuration (for what Palyra judges itself, the verified-chain cache)
// and installs it here for what GnuTLS judges, so both see the same time.
// While one of these lives, every GnuTLS check in the process reads that
// clock: a test using it must not run threads that need GnuTLS's real time
// (gtest runs tests one after another, and each test's server thread is
// meant to see the test's time). The destructor puts the real time back.
#pragma once

#include <gnutls/gnutls.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>

#include "palyra/common/clock.hpp"

namespace palyra::testing {

class ScopedGnutlsTime {
 public:
  explicit ScopedGnutlsTime(std::shared_ptr<const Clock> clock) : clock_(std::move(clock)) {
    installed().store(clock_.get());
    gnutls_global_set_time_function(&read);
  }
  ~ScopedGnutlsTime() {
    gnutls_global_set_time_function(&std::time);  // GnuTLS's default
    installed().store(nullptr);
  }
  ScopedGnutlsTime(const ScopedGnutlsTime&) = delete;
  ScopedGnutlsTime& operator=(const ScopedGnutlsTime&) = delete;

 private:
  static std::atomic<const Clock*>& installed() {
    static std::atomic<const Clock*> clock{nullptr};
    return clock;
  }
  static std::time_t read(std::time_t* out) {
    const Clock* clock = installed().load();
    const std::time_t now = std::chrono::system_clock::to_time_t(clock->now());
    if (out != nullptr) *out = now;
    return now;
  }
  std::shared_ptr<const Clock> clock_;  // alive while GnuTLS may read it
};

}  // namespace palyra::testing
