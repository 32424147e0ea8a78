// Workers 1..N-1 of the QUIC listener (see quic_worker_threads.hpp).
#include "quic_worker_threads.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <string>

namespace palyra::daemon {

Result<std::unique_ptr<QuicWorkerThreads>> QuicWorkerThreads::start(
    const std::shared_ptr<transport::ServerWorkers>& workers,
    const transport::SocketAddress& address, const QuicWorkerSetup& setup,
    journal::Journal& journal, runtime::EnrollmentService* enrollment) {
  std::unique_ptr<QuicWorkerThreads> threads(new QuicWorkerThreads());
  // Every part is made here, on the daemon's thread, before any of their
  // threads runs: the loops are still idle, and starting a thread orders
  // what was written before it.
  for (std::size_t index = 1; index < workers->count(); ++index) {
    auto worker = std::make_unique<Worker>();
    auto loop = transport::EventLoop::create();
    if (!loop) return std::move(loop).error();
    worker->loop = std::move(*loop);
    worker->service =
        std::make_unique<runtime::NodeService>(*worker->loop, journal, setup.service, enrollment);
    auto frontend =
        runtime::QuicFrontend::start(*worker->loop, address, setup.tls, setup.limits,
                                     *worker->service, transport::ServerWorker{workers, index});
    if (!frontend) return std::move(frontend).error();
    worker->frontend = std::move(*frontend);
    if (setup.qlog) worker->frontend->set_qlog(setup.qlog);
    threads->workers_.push_back(std::move(worker));
  }
  for (std::size_t i = 0; i < threads->workers_.size(); ++i) {
    Worker& worker = *threads->workers_[i];
    worker.thread = std::thread([&worker, index = i + 1] {
      // Named for top -H and perf: "palyrad-quic-1".
      const std::string name = "palyrad-quic-" + std::to_string(index);
      ::pthread_setname_np(::pthread_self(), name.c_str());
      if (auto ran = worker.loop->run(); !ran) {
        spdlog::error("QUIC worker {} stopped: {}", index, ran.error().describe());
      }
    });
  }
  return threads;
}

QuicWorkerThreads::~QuicWorkerThreads() {
  for (auto& worker : workers_) {
    if (!worker->thread.joinable()) continue;
    worker->loop->post([loop = worker->loop.get()] { loop->stop(); });
    worker->thread.join();
  }
  // As the daemon does with its own loop's parts once it stopped turning.
  for (auto& worker : workers_) {
    worker->frontend.reset();
    worker->service.reset();
  }
}

void QuicWorkerThreads::post_each(const Task& task) {
  for (auto& worker : workers_) {
    worker->loop->post([task, w = worker.get()] { task(*w->frontend, *w->service); });
  }
}

}  // namespace palyra::daemon
