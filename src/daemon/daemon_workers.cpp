// The daemon's QUIC listener on every worker (ARCHITECTURE.md, Workers):
// starting it, and the daemon-wide operations that reach every worker —
// worker 0 directly on the daemon's loop, the others by posting to theirs.
#include <spdlog/spdlog.h>

#include "daemon.hpp"
#include "palyra/transport/io/qlog_files.hpp"

namespace palyra::daemon {
namespace {

// How long the daemon's loop waits for the other workers' answers (they
// answer within an iteration of their loop; one that does not is stuck).
constexpr auto kWorkerAnswerBound = std::chrono::milliseconds(1000);

using runtime::NodeService;
using runtime::QuicFrontend;

}  // namespace

Status Daemon::start_quic(const transport::Limits& limits,
                          const runtime::NodeServiceOptions& service_options) {
  auto address =
      transport::SocketAddress::from_host_and_port(config_.quic_bind_addr, config_.quic_port);
  if (!address) return std::move(address).error();
  transport::QlogSinkFactory qlog;
  if (!config_.qlog_dir.empty()) {
    auto files = transport::qlog_files(
        config_.qlog_dir, [](const Error& error) { spdlog::warn("qlog: {}", error.message()); });
    if (!files) return std::move(files).error();
    qlog = std::move(*files);
    spdlog::info("qlog traces of QUIC connections go to {}", config_.qlog_dir.string());
  }
  const std::size_t count = quic_worker_count(config_.workers);
  // One worker is the single loop of before: no shared counts, no
  // forwarding, a socket of its own.
  std::shared_ptr<transport::ServerWorkers> workers;
  if (count > 1) {
    auto made = transport::ServerWorkers::create(count, limits);
    if (!made) return std::move(made).error();
    workers = std::move(*made);
  }
  auto quic = QuicFrontend::start(*loop_, *address, tls_, limits, *service_,
                                  transport::ServerWorker{workers, 0});
  if (!quic) return std::move(quic).error();
  quic_ = std::move(*quic);
  if (qlog) quic_->set_qlog(qlog);
  if (workers) {
    QuicWorkerSetup setup{tls_, limits, service_options, qlog};
    auto threads = QuicWorkerThreads::start(workers, quic_->local_address(), setup, *journal_,
                                            enrollment_.get());
    if (!threads) return std::move(threads).error();
    quic_threads_ = std::move(*threads);
  }
  spdlog::info("QUIC workers: {}{}", count, config_.workers == 0 ? " (one per CPU)" : "");
  return {};
}

void Daemon::quic_stop_accepting() {
  if (quic_) quic_->stop_accepting();
  if (quic_threads_)
    quic_threads_->post_each([](QuicFrontend& q, NodeService&) { q.stop_accepting(); });
}

std::size_t Daemon::calls_in_flight() {
  std::size_t in_flight = service_->calls_in_flight();
  if (!quic_threads_) return in_flight;
  auto answers = quic_threads_->ask_each<std::size_t>(
      [](QuicFrontend&, NodeService& s) { return s.calls_in_flight(); }, kWorkerAnswerBound);
  // A worker that does not answer is not known to be drained.
  for (const auto& answer : answers) in_flight += answer.value_or(1);
  return in_flight;
}

std::size_t Daemon::quic_connection_count() {
  if (!quic_) return 0;
  std::size_t count = quic_->connection_count();
  if (!quic_threads_) return count;
  auto answers = quic_threads_->ask_each<std::size_t>(
      [](QuicFrontend& q, NodeService&) { return q.connection_count(); }, kWorkerAnswerBound);
  for (const auto& answer : answers) count += answer.value_or(0);
  return count;
}

void Daemon::quic_close_all() {
  if (!quic_) return;
  spdlog::info("closing {} QUIC connection(s) with code 0x{:x}", quic_connection_count(),
               transport::app_error::kShuttingDown);
  quic_->close_all();
  if (quic_threads_) quic_threads_->post_each([](QuicFrontend& q, NodeService&) { q.close_all(); });
}

std::size_t Daemon::quic_close_revoked_connections() {
  if (!quic_) return 0;
  std::size_t closed = quic_->close_revoked_connections();
  if (!quic_threads_) return closed;
  auto answers = quic_threads_->ask_each<std::size_t>(
      [](QuicFrontend& q, NodeService&) { return q.close_revoked_connections(); },
      kWorkerAnswerBound);
  for (const auto& answer : answers) {
    if (!answer) spdlog::warn("a QUIC worker did not answer the revocation in time");
    closed += answer.value_or(0);
  }
  return closed;
}

Status Daemon::quic_reload_tls() {
  PALYRA_TRY(quic_->reload_tls(tls_));
  if (!quic_threads_) return {};
  auto answers = quic_threads_->ask_each<Status>(
      [tls = tls_](QuicFrontend& q, NodeService&) { return q.reload_tls(tls); },
      kWorkerAnswerBound);
  for (auto& answer : answers) {
    if (!answer) return Error(Errc::IoFailed, "a QUIC worker did not answer in time");
    PALYRA_TRY(std::move(*answer));
  }
  return {};
}

}  // namespace palyra::daemon
