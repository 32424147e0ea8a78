// The QUIC interop runner's rebinding cases over the simulated network: a
// NAT in front of the client gives it a new port (rebind-port) or a new
// address (rebind-addr) in the middle of a transfer. The client does not
// know; the server sees its datagrams come from elsewhere, and must
// validate the new path and answer there (RFC 9000 §9), because what it
// sends to the old address is lost.
#include "sim_fixture.hpp"
#include "worker_cids.hpp"

namespace palyra::transport::sim {
namespace {

using MigrationCases = SimulatedInteropTest;

constexpr std::uint64_t kMiB = 1024 * 1024;

// A 2 MB transfer with the client rebound to `new_address` once a quarter
// of it has arrived; returns the simulated time of the whole transfer.
std::uint64_t transfer_across_rebinding(Network& network, const char* new_address) {
  const TransferPlan plan{.files = 1, .file_bytes = 2 * kMiB};
  Transfer transfer(plan);
  network.on_server_accepted = [&transfer](Connection& server) { transfer.serve(server); };
  network.connect();
  transfer.request(*network.client());
  const bool started = network.run_until(
      [&] { return transfer.bytes_received() >= plan.file_bytes / 4 || transfer.failed(); },
      30 * kSecond);
  EXPECT_TRUE(started && !transfer.failed()) << transfer.failures() << "; " << describe(network);
  if (!started) return network.elapsed_ns();

  network.rebind_client(std::move(SocketAddress::parse(new_address)).value());
  const bool done = network.run_until(
      [&] { return transfer.complete() || transfer.failed() || either_closed(network); },
      60 * kSecond);
  EXPECT_TRUE(done && transfer.complete())
      << transfer.failures() << "; " << describe(network) << " after " << network.elapsed_ns() / 1e9
      << " s simulated";
  if (network.server() != nullptr) {
    EXPECT_EQ(network.server()->remote_address().to_string(), new_address)
        << "the server still names the client by its old address";
  }
  return network.elapsed_ns();
}

// rebind-port: same address, new port.
TEST_F(MigrationCases, RebindPort) {
  sweep("rebind-port", {1, 2, 3}, [&](std::uint64_t seed) {
    auto network = make_network(network_config(seed));
    return transfer_across_rebinding(*network, "10.0.0.2:40001");
  });
}

// rebind-addr: a new address (and port).
TEST_F(MigrationCases, RebindAddress) {
  sweep("rebind-addr", {1, 2, 3}, [&](std::uint64_t seed) {
    auto network = make_network(network_config(seed));
    return transfer_across_rebinding(*network, "10.0.0.3:50000");
  });
}

// With several workers on one port a rebinding client's datagrams may reach
// another worker's socket; they find their way back by the DCID. Every
// datagram the client sends after the handshake, on the old path and the
// new, names the worker that accepted it to any worker (ARCHITECTURE.md,
// Workers).
TEST_F(MigrationCases, RebindingClientStillNamesTheServersWorker) {
  const auto keys = ServerKeys::derive(generate_server_secret()).value();
  NetworkConfig config = network_config(1);
  config.worker_cids =
      std::make_shared<const WorkerCids>(WorkerCids::make(keys.worker_cid_key(), 3, 4).value());
  const auto another_worker = WorkerCids::make(keys.worker_cid_key(), 0, 4).value();
  auto network = make_network(config);
  std::size_t interpreted = 0;
  std::size_t elsewhere = 0;
  network->on_server_received = [&](std::span<const std::uint8_t> datagram) {
    if (network->server() == nullptr ||
        network->server()->state() == Connection::State::Handshaking) {
      return;
    }
    auto owner = another_worker.owner_of_datagram(datagram);
    ++interpreted;
    if (owner != std::optional<std::size_t>(3)) ++elsewhere;
  };
  transfer_across_rebinding(*network, "10.0.0.2:40001");
  EXPECT_GT(interpreted, 100u);
  EXPECT_EQ(elsewhere, 0u) << "of " << interpreted << " datagrams";
}

}  // namespace
}  // namespace palyra::transport::sim
