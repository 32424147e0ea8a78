// What a flood of Initials costs the server: its loop thread's CPU time per
// Initial, with gateway.retry = always (every token-less Initial answered by
// a Retry, no state) and = never (every Initial becomes a connection and a
// handshake). Two kinds of Initial: noise behind a valid header (the
// cheapest to send) and a real client's ClientHello (the server signs and
// sends its first flight). The limits are raised so that nothing is
// refused: the figure is the cost of the work itself, as a flood from many
// addresses would cause it.
//
// Usage: initial_flood_bench [COUNT]   (default 2000 Initials per figure)
#include <fmt/format.h>
#include <pthread.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <future>
#include <random>
#include <thread>

#include "palyra/transport/io/client.hpp"
#include "palyra/transport/io/server.hpp"
#include "transport/io/raw_quic.hpp"
#include "transport/test_pki.hpp"

namespace {

using namespace std::chrono_literals;
using namespace palyra::transport;

// A Server on its own loop thread, whose CPU clock we read.
class FloodedServer {
 public:
  FloodedServer(const ServerTlsConfig& tls, const Limits& limits) {
    loop_ = std::move(EventLoop::create()).value();
    server_ = std::move(Server::bind(*loop_, SocketAddress::parse("127.0.0.1:0").value(), tls,
                                     limits, ServerEvents{}))
                  .value();
    thread_ = std::thread([this] { (void)loop_->run(); });
    pthread_getcpuclockid(thread_.native_handle(), &cpu_clock_);
  }
  ~FloodedServer() {
    loop_->post([this] {
      server_.reset();
      loop_->stop();
    });
    thread_.join();
  }
  SocketAddress address() const { return server_->local_address(); }
  std::uint64_t cpu_ns() const {
    timespec t{};
    clock_gettime(cpu_clock_, &t);
    return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000 +
           static_cast<std::uint64_t>(t.tv_nsec);
  }
  ServerStats stats() {
    std::promise<ServerStats> promise;
    loop_->post([&] { promise.set_value(server_->stats()); });
    return promise.get_future().get();
  }

 private:
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  clockid_t cpu_clock_{};
};

// Sends the Initials in batches, each taken in before the next (so the
// kernel drops none), and returns the server thread's CPU ns per Initial.
double cpu_ns_per_initial(FloodedServer& server,
                          const std::vector<std::vector<std::uint8_t>>& initials) {
  constexpr std::size_t kBatch = 32;
  testing::RawUdp attacker;
  const std::uint64_t before_in = server.stats().datagrams_in;
  const std::uint64_t cpu_before = server.cpu_ns();
  for (std::size_t sent = 0; sent < initials.size();) {
    for (std::size_t i = 0; i < kBatch && sent < initials.size(); ++i, ++sent) {
      (void)attacker.send_to(server.address(), initials[sent]);
    }
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (server.stats().datagrams_in - before_in < sent) {
      if (std::chrono::steady_clock::now() > deadline) {
        fmt::print(stderr, "the server took in {} of {} Initials\n",
                   server.stats().datagrams_in - before_in, sent);
        std::exit(1);
      }
      std::this_thread::sleep_for(200us);
    }
  }
  return static_cast<double>(server.cpu_ns() - cpu_before) / static_cast<double>(initials.size());
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t count = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 2000;
  testing::TestPki pki;
  const ServerTlsConfig tls{pki.ca_cert(), pki.server_chain(), pki.server_key(), true, nullptr};
  ClientTlsConfig client_tls;
  client_tls.ca_file = pki.ca_cert();
  client_tls.cert_file = pki.device_cert();
  client_tls.key_file = pki.device_key();
  auto client_context = load_client_tls(client_tls).value();

  std::mt19937 rng(14);
  std::vector<std::vector<std::uint8_t>> noise, hellos;
  for (std::size_t i = 0; i < count; ++i) {
    noise.push_back(testing::crafted_initial(testing::random_bytes_for_test(16, rng),
                                             testing::random_bytes_for_test(16, rng), {}, rng));
  }
  const SocketAddress nowhere = SocketAddress::parse("127.0.0.1:9").value();
  fmt::print("{} Initials per figure; server loop thread CPU per Initial\n", count);
  fmt::print("{:<14} {:>14} {:>14} {:>8}\n", "initial", "retry=never", "retry=always", "ratio");
  for (const char* kind : {"noise", "client_hello"}) {
    std::vector<std::vector<std::uint8_t>>* initials = &noise;
    if (std::string_view(kind) == "client_hello") {
      Limits client_limits;
      for (std::size_t i = 0; i < count; ++i) {
        // The server never answers these clients: only their first datagram is used.
        auto c =
            Connection::connect(client_context, client_limits, nowhere, nowhere, monotonic_ns())
                .value();
        DatagramBatch batch;
        c->write_datagrams(monotonic_ns(), batch);
        const auto& burst = batch.bursts.front();
        hellos.emplace_back(
            batch.buffer.begin() + static_cast<long>(burst.offset),
            batch.buffer.begin() +
                static_cast<long>(burst.offset + std::min(burst.length, burst.segment_size)));
      }
      initials = &hellos;
    }
    double us[2] = {};
    for (RetryPolicy retry : {RetryPolicy::Never, RetryPolicy::Always}) {
      Limits limits;
      limits.retry = retry;
      limits.max_connections = count + 16;
      limits.max_handshakes = count + 16;
      limits.max_handshakes_per_address = count + 16;
      limits.handshake_timeout = 60s;  // none times out while we measure
      FloodedServer server(tls, limits);
      us[retry == RetryPolicy::Always] = cpu_ns_per_initial(server, *initials) / 1000.0;
    }
    fmt::print("{:<14} {:>11.2f} µs {:>11.2f} µs {:>7.1f}×\n", kind, us[0], us[1], us[0] / us[1]);
  }
  return 0;
}
