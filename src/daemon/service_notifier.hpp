// palyrad's side of systemd's service protocol (sd_notify(3), Type=notify):
// READY=1 once the listeners are bound, STATUS= lines an operator sees in
// `systemctl status`, RELOADING=1 around SIGHUP, STOPPING=1 when draining,
// and WATCHDOG=1 from the event loop when the unit sets WatchdogSec=.
//
// Outside systemd (no NOTIFY_SOCKET) every call does nothing, so the daemon
// needs no flag to say how it was started.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace palyra::daemon {

class ServiceNotifier {
 public:
  // Reads NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID as systemd set them.
  ServiceNotifier();

  void ready(std::string_view status);
  void status(std::string_view status);
  void reloading(std::string_view status);
  void stopping(std::string_view status);
  void watchdog();

  // How often the manager expects WATCHDOG=1 (WatchdogSec=); nothing when
  // the unit has no watchdog or it is meant for another process.
  std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }

 private:
  // One datagram with the given assignments; logs (once) when the manager's
  // socket cannot be reached, since a silent failure would end in systemd
  // killing a healthy daemon at its start or watchdog timeout.
  void send(const std::string& state);

  std::optional<std::chrono::microseconds> watchdog_;
  bool reported_failure_ = false;
};

}  // namespace palyra::daemon
