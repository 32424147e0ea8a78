#include "device_renewal.hpp"

#include <fmt/format.h>

#include <iostream>
#include <thread>

#include "node_connection.hpp"
#include "palyra/identity/ca.hpp"
#include "palyra/identity/csr.hpp"
#include "palyra/identity/device_identity.hpp"
#include "palyra/identity/state_dir.hpp"
#include "palyra/runtime/protocol.hpp"

namespace palyra::cli {
namespace {

using identity::SystemTime;

constexpr auto kFirstRetry = std::chrono::seconds(1);
constexpr auto kLastRetry = std::chrono::seconds(60);

// Sleeps until `until` or `stop`, in short slices. False when stopped.
bool sleep_until(SystemTime until, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    const auto now = std::chrono::system_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(
        std::min<std::chrono::system_clock::duration>(until - now, std::chrono::milliseconds(100)));
  }
  return false;
}

Error expired_error(const identity::Certificate& certificate, const std::string& device_id) {
  return Error(
      Errc::NotFound,
      fmt::format("the certificate of device '{}' expired at {}, so it cannot renew (the "
                  "daemon refuses an expired certificate in the handshake). Recover with a "
                  "new token: `palyra token create --device {}` on the daemon's host, "
                  "then `palyra enroll TOKEN --connect HOST:PORT` here",
                  device_id, identity::format_utc(certificate.not_after()), device_id));
}

}  // namespace

SystemTime renewal_time(SystemTime not_before, SystemTime not_after, double jitter) {
  // The daemon backdates notBefore for clock skew: the lifetime it meant
  // starts that much later (else a 20 s certificate would look 80 s long,
  // two thirds of it already past, and renew at once, again and again).
  if (not_after - not_before > identity::kDeviceClockSkew) not_before += identity::kDeviceClockSkew;
  const auto lifetime = not_after - not_before;
  const auto offset = lifetime * 2 / 3 +
                      std::chrono::duration_cast<SystemTime::duration>(lifetime * (0.1 * jitter));
  return not_before + offset;
}

DeviceRenewer::DeviceRenewer(ResolvedConnection connection)
    : connection_(std::move(connection)), random_(std::random_device{}()) {}

Result<identity::Certificate> DeviceRenewer::current() const {
  const identity::StateDir dir{*connection_.state_dir};
  auto certificate = identity::Certificate::from_pem_file(dir.device_cert(connection_.device_id));
  if (!certificate) return certificate;
  if (certificate->not_after() <= std::chrono::system_clock::now()) {
    return expired_error(*certificate, connection_.device_id);
  }
  return certificate;
}

Result<identity::Certificate> DeviceRenewer::renew_once() {
  auto in_use = current();
  if (!in_use) return in_use;
  // The new key has the type of the one it replaces: an operator who
  // enrolled a node with Ed25519 keeps Ed25519.
  auto key = identity::PrivateKey::generate(in_use->key_type().value_or(identity::kDefaultKeyType));
  if (!key) return std::move(key).error();
  auto csr = identity::make_csr_pem(*key, connection_.device_id);
  if (!csr) return std::move(csr).error();
  auto client = open_node_connection(connection_, /*privileged=*/false);
  if (!client) return std::move(client).error();
  std::optional<runtime::Response> answer;
  Status called =
      (*client)->call(runtime::encode_renew_request(*csr), connection_.timeout, false,
                      [&answer](const runtime::Response& r, const std::string&) -> Result<Next> {
                        answer = r;
                        return Next::Stop;
                      });
  (*client)->close();
  PALYRA_TRY(called);
  if (!answer)
    return Error(Errc::ConnectionClosed, "the daemon ended the renewal without an answer");
  if (answer->kind == "error" || !answer->ok) {
    const std::string name = answer->error.value_or("unknown");
    return Error(
        name == "renewal_refused" ? Errc::NotFound : Errc::InvalidArgument,
        fmt::format(
            "the daemon refused to renew device '{}' ({}){}", connection_.device_id, name,
            name == "renewal_refused" ? ": it is revoked; enroll it again with a new token" : ""));
  }
  if (answer->kind != "certificate" || !answer->certificate || !answer->ca) {
    return Error(Errc::FrameReadFailed,
                 fmt::format("the daemon answered '{}' without certificate and ca", answer->kind));
  }
  auto issued = identity::Certificate::from_pem(*answer->certificate, "the renewed certificate");
  if (!issued) return issued;
  const identity::StateDir dir{*connection_.state_dir};
  PALYRA_TRY(
      identity::store_device_identity(dir, connection_.device_id, *key, *issued, *answer->ca));
  return issued;
}

Status DeviceRenewer::run(const std::atomic<bool>& stop,
                          const std::function<void(const identity::Certificate&)>& on_renewed) {
  std::uniform_real_distribution<double> jitter(-1.0, 1.0);
  while (!stop.load()) {
    auto certificate = current();
    if (!certificate) return std::move(certificate).error();
    const SystemTime due =
        renewal_time(certificate->not_before(), certificate->not_after(), jitter(random_));
    if (!sleep_until(due, stop)) return {};
    auto retry_in = std::chrono::seconds(kFirstRetry);
    while (true) {
      auto renewed = renew_once();
      if (renewed) {
        on_renewed(*renewed);
        break;
      }
      if (stop.load()) return {};
      if (renewed.error().code() == Errc::NotFound) return std::move(renewed).error();  // expired
      std::cerr << fmt::format("palyra: renewal of device '{}' failed: {}; retrying in {} s\n",
                               connection_.device_id, renewed.error().describe(), retry_in.count());
      if (!sleep_until(std::chrono::system_clock::now() + retry_in, stop)) return {};
      retry_in = std::min(retry_in * 2, std::chrono::seconds(kLastRetry));
    }
  }
  return {};
}

}  // namespace palyra::cli
