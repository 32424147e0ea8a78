// palyrad's process: the parts of the daemon wired together on one event
// loop — the journal, the node.* service, the QUIC listener, the gRPC
// fallback listener, the revocation index — and the signals that drive its
// life. With gateway.workers > 1 the QUIC listener has more workers, each on
// a thread of its own (quic_worker_threads.hpp); this loop is worker 0.
//
//   SIGTERM, SIGINT  drain: stop accepting, let in-flight calls finish for
//                    shutdown.grace_ms, close every connection with 0x10, exit 0
//   SIGHUP           reload the revocation index (also done when revoked.txt
//                    changes on disk) and close connections of revoked devices
//                    (in cluster mode, also publish them to the other gateways);
//                    reload the server certificate, key and CA bundle (also
//                    done when those files change, and after the daemon
//                    reissued an expiring server certificate itself) for new
//                    handshakes, without closing live connections
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "config.hpp"
#include "gateway_cluster.hpp"
#include "metrics_endpoint.hpp"
#include "palyra/common/clock.hpp"
#include "palyra/common/result.hpp"
#include "palyra/fallback/grpc_frontend.hpp"
#include "palyra/identity/revocation.hpp"
#include "palyra/journal/journal.hpp"
#include "palyra/runtime/enrollment_service.hpp"
#include "palyra/runtime/node_service.hpp"
#include "palyra/runtime/quic_frontend.hpp"
#include "palyra/transport/io/event_loop.hpp"
#include "quic_worker_threads.hpp"
#include "service_notifier.hpp"

namespace palyra::daemon {

class Daemon {
 public:
  // Blocks SIGTERM/SIGINT/SIGHUP for the whole process: call it before any
  // thread starts, so they are delivered to the loop's signalfd only.
  static Status block_signals();

  // Prepares the state directory (server certificate), opens the journal,
  // binds the listeners. Nothing is served until run().
  static Result<std::unique_ptr<Daemon>> start(const Config& config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Serves until a shutdown signal has been handled. Ok after a clean drain.
  Status run();

 private:
  explicit Daemon(Config config) : config_(std::move(config)) {}
  Status watch_signals();
  void on_signal();
  void begin_shutdown(const char* why);
  void check_drained();
  void close_listeners();
  void stop_when_listeners_closed();
  void reload_revocations(const char* why);
  // Closes the live connections and calls of revoked devices; how many.
  std::size_t close_revoked();
  void watch_revocation_file();
  void reload_server_certificate(const char* why);
  void renew_server_certificate_if_due();
  // What `systemctl status` shows while serving.
  std::string serving_status() const;
  void ping_watchdog();
  // The QUIC listener's workers (daemon_workers.cpp): worker 0 on our loop,
  // the others on their threads; each call reaches all of them.
  Status start_quic(const transport::Limits& limits,
                    const runtime::NodeServiceOptions& service_options);
  void quic_stop_accepting();
  std::size_t calls_in_flight();
  std::size_t quic_connection_count();
  void quic_close_all();
  std::size_t quic_close_revoked_connections();
  Status quic_reload_tls();
  // For /metrics (metrics_collection.cpp): a snapshot taken on the loop,
  // waited for with a bound, from the endpoint's thread.
  std::optional<MetricsSnapshot> collect_metrics();
  MetricsSnapshot metrics_on_loop() const;
  void add_worker_metrics(MetricsSnapshot& snapshot);

  Config config_;
  // The one place the daemon's time comes from: handed to the journal, the
  // enrollment service and the TLS configuration, read for the server
  // certificate's renewal.
  std::shared_ptr<const palyra::Clock> clock_ = system_clock();
  std::unique_ptr<transport::EventLoop> loop_;
  std::shared_ptr<identity::RevocationIndex> revocations_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<GatewayCluster> cluster_;  // null unless journal.backend = jetstream
  std::unique_ptr<runtime::EnrollmentService> enrollment_;
  transport::ServerTlsConfig tls_;
  std::unique_ptr<runtime::NodeService> service_;
  std::unique_ptr<runtime::QuicFrontend> quic_;  // null when gateway.quic_enabled is false
  // Workers 1..N-1 of the QUIC listener; null with one worker (or no QUIC).
  std::unique_ptr<QuicWorkerThreads> quic_threads_;
  std::unique_ptr<fallback::GrpcFrontend> grpc_;  // null when gateway.grpc_enabled is false
  std::unique_ptr<MetricsEndpoint> metrics_;      // null when metrics.listen is empty
  // gRPC's shutdown blocks until its calls end, and they end on our loop:
  // it runs on this thread while the loop keeps turning.
  std::thread grpc_shutdown_;
  std::atomic<bool> grpc_stopped_{false};
  ServiceNotifier notifier_;
  int signal_fd_ = -1;
  bool shutting_down_ = false;
  std::uint64_t drain_deadline_ns_ = 0;
  // What revoked.txt looked like at the last load: (inode, mtime ns), or 0s.
  std::pair<std::uint64_t, std::int64_t> revocation_file_version_{0, 0};
  // The same for the server chain, its key and the CA bundle, together.
  std::vector<std::pair<std::uint64_t, std::int64_t>> tls_files_version_;
  std::uint64_t next_server_certificate_check_ns_ = 0;
};

}  // namespace palyra::daemon
