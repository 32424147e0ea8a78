#include "daemon.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "gateway_cluster.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/state_dir.hpp"
#include "palyra/transport/stream.hpp"
#include "server_identity.hpp"
#include "server_secret.hpp"

namespace palyra::daemon {
namespace {

constexpr std::uint64_t kNsPerMs = 1'000'000;

// journal.backend (validated: sqlite or jetstream) as the journal's Backend.
journal::Backend journal_backend(const Config& config, const identity::StateDir& dir) {
  if (config.journal_backend != "jetstream") return journal::SqliteBackend{dir.journal()};
  const cluster::NatsServers servers = nats_servers(config);
  journal::JetStreamBackend backend;
  backend.urls = servers.urls;
  backend.tls = servers.tls;
  backend.replicas = nats_replicas(config);
  backend.stream = config.journal_nats_stream;
  return backend;
}
// How often revoked.txt is checked for changes (an operator may edit it
// without sending SIGHUP; `palyra cert revoke` rewrites it atomically).
constexpr std::uint64_t kRevocationPollNs = 1'000 * kNsPerMs;
// A running daemon looks at its own certificate again when it enters its
// reissue window, and at least hourly (the file may have been replaced).
constexpr std::uint64_t kServerCertificateCheckNs = 3'600'000 * kNsPerMs;
// While draining: how often we look for the last in-flight call.
constexpr std::uint64_t kDrainPollNs = 20 * kNsPerMs;
// After CONNECTION_CLOSE is queued: time for it to leave the socket.
constexpr std::uint64_t kCloseFlushNs = 100 * kNsPerMs;

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

Error errno_error(const char* what) {
  return Error(Errc::IoFailed, std::string(what) + ": " + std::strerror(errno));
}

std::pair<std::uint64_t, std::int64_t> file_version(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {0, 0};
  return {static_cast<std::uint64_t>(st.st_ino),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

// What the server's TLS files look like now: a change to any of them means
// the certificate, the key or the CA bundle was replaced.
std::vector<std::pair<std::uint64_t, std::int64_t>> tls_files_version(
    const transport::ServerTlsConfig& tls) {
  return {file_version(tls.cert_chain_file), file_version(tls.key_file), file_version(tls.ca_file)};
}

// When to look at the server certificate next: when it enters the window
// in which it is reissued (not_after - renew_before), within [1 s, 1 h].
std::uint64_t next_certificate_check_ns(SystemTime not_after, std::chrono::seconds renew_before,
                                        SystemTime now) {
  const auto until_due =
      std::chrono::duration_cast<std::chrono::nanoseconds>(not_after - renew_before - now);
  const auto clamped =
      std::clamp<std::int64_t>(until_due.count(), 1'000 * kNsPerMs, kServerCertificateCheckNs);
  return transport::monotonic_ns() + static_cast<std::uint64_t>(clamped);
}

Result<transport::Limits> limits_from(const Config& config) {
  transport::Limits limits;
  limits.max_connections = static_cast<std::size_t>(config.max_connections);
  limits.retry = config.retry == "always"  ? transport::RetryPolicy::Always
                 : config.retry == "never" ? transport::RetryPolicy::Never
                                           : transport::RetryPolicy::Auto;
  limits.max_handshakes = static_cast<std::size_t>(config.max_handshakes);
  limits.retry_threshold = static_cast<std::size_t>(config.retry_threshold);
  limits.max_handshakes_per_address = static_cast<std::size_t>(config.max_handshakes_per_address);
  limits.handshake_timeout = std::chrono::milliseconds(config.handshake_timeout_ms);
  limits.request_frame_timeout = std::chrono::milliseconds(config.request_frame_timeout_ms);
  limits.idle_timeout = std::chrono::milliseconds(config.idle_timeout_ms);
  limits.keep_alive_interval = std::chrono::milliseconds(config.keep_alive_ms);
  auto valid = limits.validate();
  if (!valid) {
    return Error(Errc::ConfigInvalid, "gateway limits: " + valid.error().describe());
  }
  return limits;
}

}  // namespace

Status Daemon::block_signals() {
  sigset_t set = handled_signals();
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return errno_error("blocking signals");
  return {};
}

Result<std::unique_ptr<Daemon>> Daemon::start(const Config& config) {
  std::unique_ptr<Daemon> daemon(new Daemon(config));
  const identity::StateDir dir{config.state_dir};
  if (!config.quic_enabled && !config.grpc_enabled) {
    return Error(Errc::ConfigInvalid,
                 "gateway.quic_enabled and gateway.grpc_enabled are both false: nothing to serve");
  }
  auto limits = limits_from(config);
  if (!limits) return std::move(limits).error();

  auto certificate = ensure_server_certificate(
      dir, std::chrono::seconds(config.server_cert_renew_before_s), daemon->clock_->now());
  if (!certificate) return std::move(certificate).error();
  if (certificate->reissued) {
    spdlog::info("server certificate reissued reason=\"{}\" cert_sha256={}", certificate->reason,
                 certificate->fingerprint);
  }

  auto revocations = identity::RevocationIndex::load(dir.revocations());
  if (!revocations) return std::move(revocations).error();
  daemon->revocations_ = std::move(*revocations);
  daemon->revocation_file_version_ = file_version(dir.revocations());

  journal::JournalOptions journal_options;
  journal_options.retention.max_events = config.journal_retention_max_events;
  journal_options.retention.max_age = std::chrono::seconds(config.journal_retention_max_age_s);
  journal_options.dedup_window = config.journal_dedup_window;
  journal_options.clock = daemon->clock_;
  if (!config.metrics_listen.empty()) {
    auto metrics = MetricsEndpoint::start(config.metrics_listen);
    if (!metrics) return std::move(metrics).error();
    daemon->metrics_ = std::move(*metrics);
    journal_options.on_commit_observed = daemon->metrics_->commit_observer();
  }
  auto journal = journal::open_journal(journal_backend(config, dir), journal_options);
  if (!journal) return std::move(journal).error();
  daemon->journal_ = std::move(*journal);

  auto loop = transport::EventLoop::create();
  if (!loop) return std::move(loop).error();
  daemon->loop_ = std::move(*loop);

  runtime::EnrollmentOptions enrollment_options;
  enrollment_options.device_validity = config.enrollment_device_validity;
  if (config.journal_backend == "jetstream") {
    auto cluster = GatewayCluster::join(
        config, dir, *daemon->revocations_, *daemon->loop_, daemon->clock_,
        [d = daemon.get()](const std::vector<std::string>& added) {
          spdlog::info("revoked in the cluster: {} new, {} live connection(s)/call(s) closed",
                       added.size(), d->close_revoked());
        });
    if (!cluster) return std::move(cluster).error();
    daemon->cluster_ = std::move(*cluster);
    daemon->cluster_->configure(enrollment_options);
  }
  daemon->enrollment_ = std::make_unique<runtime::EnrollmentService>(
      *daemon->loop_, dir, enrollment_options, daemon->clock_);

  runtime::NodeServiceOptions service_options;
  service_options.mtls_required = config.require_client_auth;
  service_options.max_frame_bytes = limits->max_frame_bytes;
  daemon->service_ = std::make_unique<runtime::NodeService>(
      *daemon->loop_, *daemon->journal_, service_options, daemon->enrollment_.get());

  if (!config.require_client_auth) {
    spdlog::warn(
        "INSECURE: gateway.require_client_auth is false; any client may connect "
        "without a certificate and node.health reports node_rpc_mtls_required=false");
  }
  transport::ServerTlsConfig tls{dir.ca_cert(),
                                 dir.server_chain(),
                                 dir.server_key(),
                                 config.require_client_auth,
                                 daemon->revocations_,
                                 /*serve_enrollment=*/true,
                                 daemon->clock_};
  // Stateless resets and Retry tokens outlive this process (PROTOCOL.md §8).
  auto secret = load_or_create_server_secret(dir.server_secret());
  if (!secret) return std::move(secret).error();
  tls.secret = *secret;
  daemon->tls_ = tls;
  daemon->tls_files_version_ = tls_files_version(tls);
  daemon->next_server_certificate_check_ns_ = next_certificate_check_ns(
      certificate->not_after, std::chrono::seconds(config.server_cert_renew_before_s),
      daemon->clock_->now());
  if (config.quic_enabled) PALYRA_TRY(daemon->start_quic(*limits, service_options));
  if (config.grpc_enabled) {
    auto address =
        transport::SocketAddress::from_host_and_port(config.grpc_bind_addr, config.grpc_port);
    if (!address) return std::move(address).error();
    auto enroll_address = transport::SocketAddress::from_host_and_port(config.grpc_bind_addr,
                                                                       config.grpc_enroll_port);
    if (!enroll_address) return std::move(enroll_address).error();
    auto grpc = fallback::GrpcFrontend::start(*daemon->loop_, address->to_string(),
                                              enroll_address->to_string(), tls, *daemon->service_);
    if (!grpc) return std::move(grpc).error();
    daemon->grpc_ = std::move(*grpc);
  }

  PALYRA_TRY(daemon->watch_signals());
  daemon->watch_revocation_file();
  if (daemon->metrics_) {
    daemon->metrics_->set_collect([d = daemon.get()] { return d->collect_metrics(); });
  }
  return daemon;
}

Daemon::~Daemon() {
  // Order matters: nothing may call into a part after it is gone.
  metrics_.reset();  // no scrape reads the parts below from here on
  if (grpc_shutdown_.joinable()) grpc_shutdown_.join();
  grpc_.reset();
  quic_threads_.reset();  // the other workers, before the parts they share
  quic_.reset();
  service_.reset();
  enrollment_.reset();  // finishes an enrollment in progress
  cluster_.reset();     // stops the revocation watch (enrollment shared its buckets)
  journal_.reset();     // commits what is queued
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

Status Daemon::watch_signals() {
  sigset_t set = handled_signals();
  signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) return errno_error("signalfd");
  return loop_->watch_readable(signal_fd_, [this] { on_signal(); });
}

Status Daemon::run() {
  // The one line on stdout: scripts and tests wait for it (the port may
  // have been 0, "any").
  const std::string quic = quic_ ? quic_->local_address().to_string() : "off";
  const std::string grpc = grpc_ ? grpc_->local_address() : "off";
  const std::string grpc_enroll = grpc_ ? grpc_->enroll_address() : "off";
  const std::string metrics = metrics_ ? metrics_->local_address() : "off";
  std::printf("palyrad listening quic=%s grpc=%s grpc_enroll=%s metrics=%s state_dir=%s\n",
              quic.c_str(), grpc.c_str(), grpc_enroll.c_str(), metrics.c_str(),
              config_.state_dir.c_str());
  std::fflush(stdout);
  spdlog::info(
      "listening quic={} grpc={} grpc_enroll={} mtls_required={} max_connections={} "
      "journal_newest_seq={}",
      quic, grpc, grpc_enroll, config_.require_client_auth, config_.max_connections,
      journal_->newest_seq());
  notifier_.ready(serving_status());
  if (auto interval = notifier_.watchdog_interval()) {
    spdlog::info("systemd watchdog: pinging every {} ms from the event loop",
                 interval->count() / 2000);
    ping_watchdog();
  }
  auto status = loop_->run();
  spdlog::info("stopped");
  return status;
}

std::string Daemon::serving_status() const {
  return fmt::format("serving quic={} grpc={}, journal at seq {}",
                     quic_ ? quic_->local_address().to_string() : "off",
                     grpc_ ? grpc_->local_address() : "off", journal_->newest_seq());
}

// From the loop, so a loop that stops turning stops the pings and systemd
// restarts the daemon (WatchdogSec=); half the interval, as sd_watchdog_enabled(3)
// recommends.
void Daemon::ping_watchdog() {
  notifier_.watchdog();
  const auto half = *notifier_.watchdog_interval() / 2;
  const auto next_ns = transport::monotonic_ns() +
                       static_cast<std::uint64_t>(
                           std::chrono::duration_cast<std::chrono::nanoseconds>(half).count());
  loop_->schedule_at(next_ns, [this] { ping_watchdog(); });
}

void Daemon::on_signal() {
  signalfd_siginfo info{};
  while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    switch (info.ssi_signo) {
      case SIGHUP:
        notifier_.reloading("reloading the revocation index and the server certificate");
        reload_revocations("SIGHUP");
        reload_server_certificate("SIGHUP");
        if (!shutting_down_) notifier_.ready(serving_status());
        break;
      case SIGTERM:
        begin_shutdown("SIGTERM");
        break;
      case SIGINT:
        begin_shutdown("SIGINT");
        break;
      default:
        break;
    }
  }
}

void Daemon::begin_shutdown(const char* why) {
  if (shutting_down_) return;
  shutting_down_ = true;
  quic_stop_accepting();
  drain_deadline_ns_ = transport::monotonic_ns() + config_.shutdown_grace_ms * kNsPerMs;
  const std::size_t in_flight = calls_in_flight();
  spdlog::info("shutting down on {}: draining {} call(s) for up to {} ms", why, in_flight,
               config_.shutdown_grace_ms);
  notifier_.stopping(fmt::format("draining {} call(s) for up to {} ms ({})", in_flight,
                                 config_.shutdown_grace_ms, why));
  check_drained();
}

void Daemon::check_drained() {
  const std::size_t in_flight = calls_in_flight();
  const std::uint64_t now = transport::monotonic_ns();
  if (in_flight > 0 && now < drain_deadline_ns_) {
    loop_->schedule_at(now + kDrainPollNs, [this] { check_drained(); });
    return;
  }
  if (in_flight > 0) {
    spdlog::warn("grace period over with {} call(s) in flight; closing anyway", in_flight);
  }
  close_listeners();
}

void Daemon::close_listeners() {
  quic_close_all();
  if (grpc_) {
    grpc_shutdown_ = std::thread([this] {
      grpc_->shutdown();
      grpc_stopped_.store(true);
    });
  } else {
    grpc_stopped_.store(true);
  }
  stop_when_listeners_closed();
}

void Daemon::stop_when_listeners_closed() {
  const std::uint64_t now = transport::monotonic_ns();
  if (!grpc_stopped_.load()) {
    loop_->schedule_at(now + kDrainPollNs, [this] { stop_when_listeners_closed(); });
    return;
  }
  loop_->schedule_at(now + kCloseFlushNs, [this] { loop_->stop(); });
}

void Daemon::reload_revocations(const char* why) {
  revocation_file_version_ = file_version(identity::StateDir{config_.state_dir}.revocations());
  auto newly_revoked = revocations_->reload();
  if (!newly_revoked) {
    spdlog::error("revocation index reload ({}) failed, keeping the previous one: {}", why,
                  newly_revoked.error().describe());
    return;
  }
  std::size_t closed = 0;
  if (!newly_revoked->empty()) {
    closed = close_revoked();
    if (cluster_) cluster_->revoked_here(*newly_revoked);
  }
  spdlog::info(
      "revocation index reloaded ({}): {} revoked, {} new, {} live connection(s)/call(s) closed",
      why, revocations_->size(), newly_revoked->size(), closed);
}

std::size_t Daemon::close_revoked() {
  std::size_t closed = 0;
  if (quic_) closed += quic_close_revoked_connections();
  if (grpc_) closed += grpc_->cancel_revoked_calls();
  return closed;
}

void Daemon::watch_revocation_file() {
  loop_->schedule_at(transport::monotonic_ns() + kRevocationPollNs, [this] {
    if (!shutting_down_) {
      if (file_version(identity::StateDir{config_.state_dir}.revocations()) !=
          revocation_file_version_) {
        reload_revocations("revoked.txt changed");
      }
      renew_server_certificate_if_due();
      if (tls_files_version(tls_) != tls_files_version_) {
        reload_server_certificate("certificate files changed");
      }
    }
    watch_revocation_file();
  });
}

void Daemon::reload_server_certificate(const char* why) {
  tls_files_version_ = tls_files_version(tls_);
  if (!quic_) return;
  auto reloaded = quic_reload_tls();
  if (!reloaded) {
    spdlog::error("server certificate reload ({}) failed, new handshakes keep the previous one: {}",
                  why, reloaded.error().describe());
    return;
  }
  auto certificate = identity::Certificate::from_pem_file(tls_.cert_chain_file);
  spdlog::info(
      "server certificate reloaded ({}): cert_sha256={}; {} live connection(s) keep theirs", why,
      certificate ? certificate->fingerprint() : "?", quic_connection_count());
}

// The reissue palyrad does at start, also while it runs: a daemon that stays
// up for a year must not serve an expired certificate.
void Daemon::renew_server_certificate_if_due() {
  const std::uint64_t now = transport::monotonic_ns();
  if (now < next_server_certificate_check_ns_) return;
  next_server_certificate_check_ns_ = now + kServerCertificateCheckNs;
  const auto renew_before = std::chrono::seconds(config_.server_cert_renew_before_s);
  auto certificate =
      ensure_server_certificate(identity::StateDir{config_.state_dir}, renew_before, clock_->now());
  if (!certificate) {
    spdlog::error("server certificate check failed: {}", certificate.error().describe());
    return;
  }
  next_server_certificate_check_ns_ =
      next_certificate_check_ns(certificate->not_after, renew_before, clock_->now());
  if (certificate->reissued) {
    spdlog::info("server certificate reissued reason=\"{}\" cert_sha256={}", certificate->reason,
                 certificate->fingerprint);
    reload_server_certificate("reissued");
  }
}

}  // namespace palyra::daemon
