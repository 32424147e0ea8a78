// What every simulated interop case shares: a test PKI and TLS contexts for
// both ends, the runner's link (10 Mbit/s, 30 ms round trip, a 25-packet
// queue), a sweep over seeds that names the seed of a failure, and a line
// per seed with the simulated and the real time it took.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "../test_pki.hpp"
#include "sim_network.hpp"
#include "sim_transfer.hpp"
#include "tls_context.hpp"

namespace palyra::transport::sim {

// The interop runner's default network: 10 Mbit/s each way, 15 ms each way,
// a drop-tail queue of 25 full-size packets; plus up to 2 ms of jitter.
inline LinkConfig runner_link() {
  LinkConfig link;
  link.delay_ns = 15 * kMs;
  link.jitter_ns = 2 * kMs;  // not the runner's, but it makes each seed a different run
  link.rate_bytes_per_s = 10'000'000 / 8;
  link.max_queue_ns = 25 * 1'252 * kSecond / link.rate_bytes_per_s;
  return link;
}

// Receive windows small enough that flow control, not the link, paces a
// transfer (the runner's "transfer" case); frames must fit the stream window.
inline Limits small_windows() {
  Limits limits;
  limits.max_frame_bytes = 16 * 1024;
  limits.stream_receive_window = 64 * 1024;
  limits.max_stream_receive_window = 64 * 1024;
  limits.connection_receive_window = 128 * 1024;
  limits.max_connection_receive_window = 128 * 1024;
  return limits;
}

// Either side has closed.
inline bool either_closed(Network& network) {
  return (network.client() && network.client()->state() == Connection::State::Closed) ||
         (network.server() && network.server()->state() == Connection::State::Closed);
}

// Both sides' states and what the links did, for a failure message.
inline std::string describe(Network& network) {
  auto side = [](Connection* c) -> std::string {
    if (c == nullptr) return "none";
    if (c->close_error()) return c->close_error()->describe();
    return c->state() == Connection::State::Established ? "established" : "handshaking";
  };
  const auto& up = network.to_server().counters();
  const auto& down = network.to_client().counters();
  std::string endings;
  for (const auto& ending : network.server_endings()) endings += " [" + ending + "]";
  return fmt::format(
      "client: {}; server: {} (earlier:{}); uplink {} sent {} lost; downlink {} sent {} lost",
      side(network.client()), side(network.server()), endings, up.sent, up.lost, down.sent,
      down.lost);
}

class SimulatedInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_tls_ = std::move(ClientTlsContext::create(pki_.device_tls())).value();
    use_server_chain(pki_.server_chain(), pki_.server_key());
  }

  void use_server_chain(const std::filesystem::path& chain, const std::filesystem::path& key) {
    server_tls_ =
        std::move(ServerTlsContext::create({pki_.ca_cert(), chain, key, true, nullptr})).value();
  }

  // A network with the runner's link both ways, then `adjust` applied.
  NetworkConfig network_config(std::uint64_t seed) const {
    NetworkConfig config;
    config.seed = seed;
    config.to_server = runner_link();
    config.to_client = runner_link();
    return config;
  }
  std::unique_ptr<Network> make_network(const NetworkConfig& config) const {
    return std::make_unique<Network>(config, client_tls_, server_tls_);
  }

  // Runs `body` once per seed, naming the seed in any failure, and prints
  // the simulated time each seed took (the body returns it) and the real.
  void sweep(const char* name, std::initializer_list<std::uint64_t> seeds,
             const std::function<std::uint64_t(std::uint64_t seed)>& body) {
    for (std::uint64_t seed : seeds) {
      SCOPED_TRACE(fmt::format("{} with seed {}", name, seed));
      const auto started = std::chrono::steady_clock::now();
      const std::uint64_t simulated_ns = body(seed);
      const auto real = std::chrono::steady_clock::now() - started;
      fmt::print("[ sim      ] {} seed {}: {:.3f} s simulated, {} ms real\n", name, seed,
                 static_cast<double>(simulated_ns) / 1e9,
                 std::chrono::duration_cast<std::chrono::milliseconds>(real).count());
      if (HasFailure()) return;  // one seed's failure is enough to read
    }
  }

  // Connects and moves `plan` from server to client; returns the simulated
  // time it took, with any failure recorded.
  std::uint64_t transfer(Network& network, const TransferPlan& plan, std::uint64_t limit_ns) {
    Transfer transfer(plan);
    network.on_server_accepted = [&transfer](Connection& server) { transfer.serve(server); };
    network.connect();
    transfer.request(*network.client());
    const bool done = network.run_until(
        [&] { return transfer.complete() || transfer.failed() || either_closed(network); },
        limit_ns);
    EXPECT_TRUE(done && transfer.complete())
        << transfer.failures() << "; " << describe(network) << " after "
        << network.elapsed_ns() / 1e9 << " s simulated";
    return network.elapsed_ns();
  }

  testing::TestPki pki_;
  std::shared_ptr<const ClientTlsContext> client_tls_;
  std::shared_ptr<const ServerTlsContext> server_tls_;
};

}  // namespace palyra::transport::sim
