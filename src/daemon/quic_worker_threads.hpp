// Workers 1..N-1 of palyrad's QUIC listener (ARCHITECTURE.md, Workers):
// each a thread of its own with its own event loop, NodeService and
// QuicFrontend, bound to the port worker 0 (the daemon's own loop) bound.
// Worker 0 stays on the daemon's loop, so one worker is the single loop of
// before, exactly. The daemon reaches these workers only by posting to
// their loops: post_each() for orders, ask_each() for answers.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "palyra/common/result.hpp"
#include "palyra/journal/journal.hpp"
#include "palyra/runtime/enrollment_service.hpp"
#include "palyra/runtime/node_service.hpp"
#include "palyra/runtime/quic_frontend.hpp"
#include "palyra/transport/io/event_loop.hpp"
#include "palyra/transport/io/server_workers.hpp"
#include "palyra/transport/qlog_sink.hpp"

namespace palyra::daemon {

// What every worker's listener is made of.
struct QuicWorkerSetup {
  transport::ServerTlsConfig tls;
  transport::Limits limits;
  runtime::NodeServiceOptions service;
  transport::QlogSinkFactory qlog;  // empty: no qlog
};

class QuicWorkerThreads {
 public:
  // Workers 1..workers->count()-1 on `address`, the port worker 0 bound
  // (so worker 0's frontend must exist). `journal` and `enrollment` (on the daemon's loop)
  // must outlive them, and the daemon's loop must not turn after they are
  // gone. Their threads run from here on.
  static Result<std::unique_ptr<QuicWorkerThreads>> start(
      const std::shared_ptr<transport::ServerWorkers>& workers,
      const transport::SocketAddress& address, const QuicWorkerSetup& setup,
      journal::Journal& journal, runtime::EnrollmentService* enrollment);
  // Stops every loop, joins the threads, then destroys their parts.
  ~QuicWorkerThreads();
  QuicWorkerThreads(const QuicWorkerThreads&) = delete;
  QuicWorkerThreads& operator=(const QuicWorkerThreads&) = delete;

  using Task = std::function<void(runtime::QuicFrontend&, runtime::NodeService&)>;
  // Runs `task` on every worker's loop, without waiting.
  void post_each(const Task& task);

  // Runs `task` on every worker's loop and waits, at most `bound` in all,
  // for the answers, in worker order (index 0 is worker 1); nullopt for a
  // worker that did not answer in time. Never from a worker's own loop.
  template <class T>
  std::vector<std::optional<T>> ask_each(
      std::function<T(runtime::QuicFrontend&, runtime::NodeService&)> task,
      std::chrono::milliseconds bound);

 private:
  struct Worker {
    std::unique_ptr<transport::EventLoop> loop;
    std::unique_ptr<runtime::NodeService> service;
    std::unique_ptr<runtime::QuicFrontend> frontend;
    std::thread thread;
  };
  QuicWorkerThreads() = default;

  std::vector<std::unique_ptr<Worker>> workers_;
};

template <class T>
std::vector<std::optional<T>> QuicWorkerThreads::ask_each(
    std::function<T(runtime::QuicFrontend&, runtime::NodeService&)> task,
    std::chrono::milliseconds bound) {
  std::vector<std::future<T>> answers;
  for (auto& worker : workers_) {
    auto promise = std::make_shared<std::promise<T>>();
    answers.push_back(promise->get_future());
    worker->loop->post(
        [promise, task, w = worker.get()] { promise->set_value(task(*w->frontend, *w->service)); });
  }
  const auto deadline = std::chrono::steady_clock::now() + bound;
  std::vector<std::optional<T>> results;
  for (auto& answer : answers) {
    if (answer.wait_until(deadline) == std::future_status::ready) {
      results.emplace_back(answer.get());
    } else {
      results.emplace_back(std::nullopt);
    }
  }
  return results;
}

}  // namespace palyra::daemon
