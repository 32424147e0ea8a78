#include "palyra/runtime/enrollment_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "palyra/identity/csr.hpp"
#include "palyra/identity/enrollment_token.hpp"
#include "palyra/identity/store.hpp"
#include "palyra/identity/token_store.hpp"
#include "worker_thread.hpp"

namespace palyra::runtime {

// What the worker decided: the frame to answer, whether it counts as a
// failed attempt of the caller's address, and the log line's details
// (which may name the precise reason: the log is the operator's, the frame
// the peer's).
struct IssueOutcome {
  std::string frame;
  bool accepted = false;
  bool counts_as_failure = false;
  std::string details;
};

namespace {

using Outcome = IssueOutcome;

using identity::SystemTime;

// "203.0.113.7" from "203.0.113.7:4433", "::1" from "[::1]:4433".
std::string host_of(const std::string& peer) {
  if (peer.starts_with('[')) {
    auto end = peer.find(']');
    return end == std::string::npos ? peer : peer.substr(1, end - 1);
  }
  auto colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

// The token's id for logs, never its secret; "-" when it has no valid id.
std::string token_id_for_log(const std::string& token) {
  auto dot = token.find('.');
  std::string id = token.substr(0, dot);
  bool hex = id.size() == 8 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
  return hex ? id : "-";
}

Outcome refused(ProtocolError error, std::string why) {
  return Outcome{encode_error(error), false, true, std::move(why)};
}

Outcome internal_failure(const Error& error) {
  return Outcome{encode_error(ProtocolError::StreamFailure), false, false, error.describe()};
}

// The CSR, or the answer to give instead: a malformed request is
// invalid_params (PROTOCOL.md §4); a well-formed one for a key type we do not
// issue is refused like every other enrollment.
std::variant<identity::CertificateRequest, Outcome> read_csr(const Request& request,
                                                             ProtocolError refusal) {
  auto csr = identity::CertificateRequest::from_pem(request.csr_pem);
  if (csr) return std::move(*csr);
  if (csr.error().code() == Errc::UnsupportedKeyType) {
    return refused(refusal, "CSR: " + csr.error().message());
  }
  return refused(ProtocolError::InvalidParams, "CSR: " + csr.error().message());
}

// Which device id the certificate names: the token's if it binds one (a
// request naming another is refused), else the requested one, which must
// not belong to a live device.
Result<std::string> choose_device_id(const identity::TokenRecord& token, const Request& request,
                                     const identity::IdentityStore& store, SystemTime now) {
  if (token.device_id) {
    if (request.device_id && *request.device_id != *token.device_id) {
      return Error(Errc::InvalidDeviceId,
                   fmt::format("the token is bound to device '{}', the node asked for '{}'",
                               *token.device_id, *request.device_id));
    }
    return *token.device_id;
  }
  if (!request.device_id) {
    return Error(Errc::InvalidDeviceId, "neither the token nor the request names a device id");
  }
  PALYRA_TRY(identity::validate_device_id(*request.device_id));
  auto in_use = store.device_in_use(*request.device_id, now);
  if (!in_use) return std::move(in_use).error();
  if (*in_use) {
    return Error(Errc::AlreadyExists,
                 fmt::format("device id '{}' belongs to a device with a valid certificate",
                             *request.device_id));
  }
  return *request.device_id;
}

// Tells options.on_issued about a certificate the ledger file now holds, and
// points the device's claim at it: the enrollment's own claim, or (a
// renewal) the device's claim. A claim not updated is logged, not refused:
// the certificate exists.
void report_issued(const EnrollmentOptions& options, const identity::Certificate& certificate,
                   identity::DeviceClaim* claim, SystemTime now) {
  const identity::LedgerEntry entry = identity::ledger_entry_for("device", certificate);
  if (options.on_issued) options.on_issued(entry);
  Status claimed;
  if (claim != nullptr) {
    claimed = claim->settle(entry);
  } else if (options.device_claims) {
    claimed = options.device_claims->keep(entry, now);
  }
  if (!claimed) {
    spdlog::warn("device id '{}': claim not pointed at certificate {}: {}", entry.device_id,
                 entry.fingerprint, claimed.error().describe());
  }
}

Outcome enroll_on_worker(const identity::StateDir& dir, const EnrollmentOptions& options,
                         identity::TokenStore& tokens, SystemTime now, const Request& request) {
  auto token = identity::parse_presented_token(request.token);
  if (!token) return refused(ProtocolError::EnrollRefused, "malformed token");
  // The CSR first: a malformed one must not use up the token.
  auto csr = read_csr(request, ProtocolError::EnrollRefused);
  if (auto* answer = std::get_if<Outcome>(&csr)) return std::move(*answer);
  identity::IdentityStore store(dir);
  std::string device_id;
  // Held from the device id's check until the certificate names it; given
  // back if the enrollment goes no further (its destructor).
  std::unique_ptr<identity::DeviceClaim> claim;
  // The device id is settled before the token's use is taken: a node asking
  // for a taken id may try again with the same token.
  auto record = tokens.consume(*token, now, [&](const identity::TokenRecord& valid) -> Status {
    auto chosen = choose_device_id(valid, request, store, now);
    if (!chosen) return std::move(chosen).error();
    // `accept` runs again when another gateway raced us for the token: the
    // same token and request choose the same id, already claimed.
    if (options.device_claims && (!claim || *chosen != device_id)) {
      claim.reset();
      auto claimed = options.device_claims->claim(*chosen, valid.device_id.has_value(), now);
      if (!claimed) return std::move(claimed).error();
      claim = std::move(*claimed);
    }
    device_id = std::move(*chosen);
    return {};
  });
  if (!record) return refused(ProtocolError::EnrollRefused, record.error().message());
  auto certificate = store.issue_device_for_key(std::get<identity::CertificateRequest>(csr),
                                                device_id, options.device_validity, now);
  if (!certificate) return internal_failure(certificate.error());
  report_issued(options, *certificate, claim.get(), now);
  auto bundle = store.ca_bundle_pem();
  if (!bundle) return internal_failure(bundle.error());
  return Outcome{
      encode_enrolled(device_id, certificate->pem(), *bundle), true, false,
      fmt::format("device_id={} cert_sha256={} not_after={}", device_id, certificate->fingerprint(),
                  identity::format_utc(certificate->not_after()))};
}

Outcome renew_on_worker(const identity::StateDir& dir, const EnrollmentOptions& options,
                        SystemTime now, const Request& request, const std::string& device_id) {
  if (device_id.empty()) {
    return refused(ProtocolError::RenewalRefused, "the connection presented no device certificate");
  }
  auto csr = read_csr(request, ProtocolError::RenewalRefused);
  if (auto* answer = std::get_if<Outcome>(&csr)) return std::move(*answer);
  identity::IdentityStore store(dir);
  auto certificate = store.issue_device_for_key(std::get<identity::CertificateRequest>(csr),
                                                device_id, options.device_validity, now,
                                                identity::IdentityStore::Issue::Renewal);
  if (!certificate && certificate.error().code() == Errc::DeviceRevoked) {
    return refused(ProtocolError::RenewalRefused, certificate.error().message());
  }
  if (!certificate) return internal_failure(certificate.error());
  report_issued(options, *certificate, nullptr, now);
  auto bundle = store.ca_bundle_pem();
  if (!bundle) return internal_failure(bundle.error());
  return Outcome{encode_certificate(certificate->pem(), *bundle), true, false,
                 fmt::format("cert_sha256={} not_after={}", certificate->fingerprint(),
                             identity::format_utc(certificate->not_after()))};
}

}  // namespace

EnrollmentService::EnrollmentService(transport::EventLoop& loop, identity::StateDir dir,
                                     EnrollmentOptions options,
                                     std::shared_ptr<const palyra::Clock> clock)
    : loop_(loop),
      dir_(std::move(dir)),
      options_(std::move(options)),
      clock_(std::move(clock)),
      failures_(options_.failures),
      worker_(std::make_unique<WorkerThread>()) {
  if (!options_.tokens) options_.tokens = std::make_shared<identity::FileTokenStore>(dir_);
}

EnrollmentService::~EnrollmentService() {
  worker_.reset();  // finishes the call in progress
  lifetime_.reset();
}

void EnrollmentService::enroll(const Request& request, const std::string& peer, Done done) {
  const std::string host = host_of(peer);
  if (failures_.is_locked_out(host, clock_->steady_now())) {
    spdlog::warn(
        "enrollment refused peer={} token_id={} reason=\"too many failed attempts from "
        "this address; refused for up to {} s\"",
        peer, token_id_for_log(request.token), options_.failures.lockout.count());
    ++enrollments_.locked_out;
    done(encode_error(ProtocolError::EnrollRefused));
    return;
  }
  const std::string token_id = token_id_for_log(request.token);
  run_on_worker(
      [this, request] {
        return enroll_on_worker(dir_, options_, *options_.tokens, clock_->now(), request);
      },
      "enrollment", enrollments_, fmt::format("peer={} token_id={}", peer, token_id), host,
      std::move(done));
}

void EnrollmentService::renew(const Request& request, const std::string& device_id,
                              const std::string& peer, Done done) {
  run_on_worker(
      [this, request, device_id] {
        return renew_on_worker(dir_, options_, clock_->now(), request, device_id);
      },
      "renewal", renewals_, fmt::format("peer={} device_id={}", peer, device_id), std::nullopt,
      std::move(done));
}

void EnrollmentService::run_on_worker(std::function<Outcome()> work, const char* what,
                                      IssueStats& counts, std::string who,
                                      std::optional<std::string> counted_host, Done done) {
  ++in_flight_;
  worker_->post([this, work = std::move(work), what, counts = &counts, who = std::move(who),
                 counted_host = std::move(counted_host), done = std::move(done),
                 lifetime = std::weak_ptr<int>(lifetime_)]() mutable {
    Outcome outcome = work();
    loop_.post([this, lifetime, what, counts, who = std::move(who),
                counted_host = std::move(counted_host), outcome = std::move(outcome),
                done = std::move(done)]() mutable {
      if (!lifetime.lock()) return;
      --in_flight_;
      ++(outcome.accepted ? counts->accepted : counts->refused);
      if (outcome.accepted) {
        spdlog::info("{} accepted {} {}", what, who, outcome.details);
      } else {
        spdlog::warn("{} refused {} reason=\"{}\"", what, who, outcome.details);
      }
      if (counted_host && outcome.counts_as_failure &&
          failures_.record_failure(*counted_host, clock_->steady_now())) {
        spdlog::warn("enrollment: address {} locked out for {} s after {} failed attempts",
                     *counted_host, options_.failures.lockout.count(),
                     options_.failures.max_failures);
      }
      done(std::move(outcome.frame));
    });
  });
}

}  // namespace palyra::runtime
