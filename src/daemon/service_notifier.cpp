#include "service_notifier.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace palyra::daemon {
namespace {

// A STATUS= value is one line: systemd shows it as is.
std::string one_line(std::string_view text) {
  std::string line(text);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

}  // namespace

ServiceNotifier::ServiceNotifier() {
  std::uint64_t usec = 0;
  // unset_environment = 0: palyrad starts no children that could misuse it.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_ = std::chrono::microseconds(usec);
  }
}

void ServiceNotifier::ready(std::string_view status) {
  send("READY=1\nSTATUS=" + one_line(status));
}

void ServiceNotifier::status(std::string_view status) {
  send("STATUS=" + one_line(status));
}

void ServiceNotifier::reloading(std::string_view status) {
  send("RELOADING=1\nSTATUS=" + one_line(status));
}

void ServiceNotifier::stopping(std::string_view status) {
  send("STOPPING=1\nSTATUS=" + one_line(status));
}

void ServiceNotifier::watchdog() {
  send("WATCHDOG=1");
}

void ServiceNotifier::send(const std::string& state) {
  // 0: not under a service manager (no NOTIFY_SOCKET); > 0: sent.
  const int rv = sd_notify(0, state.c_str());
  if (rv >= 0 || reported_failure_) return;
  reported_failure_ = true;
  spdlog::warn(
      "cannot notify the service manager (NOTIFY_SOCKET): {}; further failures are not "
      "logged",
      std::strerror(-rv));
}

}  // namespace palyra::daemon
