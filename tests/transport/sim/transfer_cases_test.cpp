// The QUIC interop runner's transfer cases over the simulated network: the
// bytes of every file arrive whole and in order on each stream, under flow
// control, many streams, loss, corruption and a link that keeps going dark.
#include "sim_fixture.hpp"

namespace palyra::transport::sim {
namespace {

using TransferCases = SimulatedInteropTest;

constexpr std::uint64_t kMiB = 1024 * 1024;

// transfer: 2 MB over receive windows of 64 KiB per stream and 128 KiB per
// connection, so the flow-control credit is renewed some thirty times.
TEST_F(TransferCases, Transfer) {
  sweep("transfer", {1, 2, 3}, [&](std::uint64_t seed) {
    NetworkConfig config = network_config(seed);
    config.limits = small_windows();
    auto network = make_network(config);
    return transfer(*network, {.files = 1, .file_bytes = 2 * kMiB}, 60 * kSecond);
  });
}

// multiplexing: many small files at once, more than the peer's stream limit
// (32), so streams are opened as the server raises the limit.
TEST_F(TransferCases, Multiplexing) {
  sweep("multiplexing", {1, 2, 3}, [&](std::uint64_t seed) {
    auto network = make_network(network_config(seed));
    return transfer(*network, {.files = 200, .file_bytes = 8 * 1024}, 60 * kSecond);
  });
}

// transferloss: 2 MB with 2 % of the datagrams lost each way.
TEST_F(TransferCases, TransferLoss) {
  sweep("transferloss", {1, 2, 3, 4, 5}, [&](std::uint64_t seed) {
    NetworkConfig config = network_config(seed);
    config.to_server.loss = 0.02;
    config.to_client.loss = 0.02;
    auto network = make_network(config);
    const std::uint64_t took =
        transfer(*network, {.files = 1, .file_bytes = 2 * kMiB}, 120 * kSecond);
    EXPECT_GT(network->to_client().counters().lost, 0u) << "the link lost nothing: no test";
    return took;
  });
}

// transfercorruption: 2 MB with 2 % of the datagrams carrying a flipped bit
// each way; the AEAD must reject each, and the data come intact.
TEST_F(TransferCases, TransferCorruption) {
  sweep("transfercorruption", {1, 2, 3, 4, 5}, [&](std::uint64_t seed) {
    NetworkConfig config = network_config(seed);
    config.to_server.corrupt = 0.02;
    config.to_client.corrupt = 0.02;
    auto network = make_network(config);
    const std::uint64_t took =
        transfer(*network, {.files = 1, .file_bytes = 2 * kMiB}, 120 * kSecond);
    EXPECT_GT(network->to_client().counters().corrupted, 0u) << "nothing corrupted: no test";
    return took;
  });
}

// Reordering, duplication and jitter together (no runner case of its own,
// but each of its links reorders): the stream reassembles in order.
TEST_F(TransferCases, TransferReorderedAndDuplicated) {
  sweep("reorder+duplicate", {1, 2, 3}, [&](std::uint64_t seed) {
    NetworkConfig config = network_config(seed);
    for (LinkConfig* link : {&config.to_server, &config.to_client}) {
      link->jitter_ns = 5 * kMs;
      link->reorder = 0.05;
      link->reorder_ns = 8 * kMs;
      link->duplicate = 0.05;
    }
    auto network = make_network(config);
    const std::uint64_t took =
        transfer(*network, {.files = 4, .file_bytes = 512 * 1024}, 120 * kSecond);
    EXPECT_GT(network->to_client().counters().reordered, 0u);
    EXPECT_GT(network->to_client().counters().duplicated, 0u);
    return took;
  });
}

// blackhole: the link is up 5 s and dark 2 s, both ways at once, over and
// over, during a transfer. The runner moves 10 MB over its 10 Mbit/s link;
// that takes about 10 s of simulated time here, so the transfer crosses at
// least one blackhole and stays a fraction of a second of real time.
TEST_F(TransferCases, Blackhole) {
  sweep("blackhole", {1, 2, 3}, [&](std::uint64_t seed) {
    NetworkConfig config = network_config(seed);
    const std::uint64_t start = 1'000 * kSecond;  // Network's clock starts there
    for (std::uint64_t on = start + 5 * kSecond; on < start + 300 * kSecond; on += 7 * kSecond) {
      config.to_server.blackholes.push_back({on, on + 2 * kSecond});
      config.to_client.blackholes.push_back({on, on + 2 * kSecond});
    }
    auto network = make_network(config);
    const std::uint64_t took =
        transfer(*network, {.files = 1, .file_bytes = 10 * kMiB}, 240 * kSecond);
    EXPECT_GT(took, 7 * kSecond) << "the transfer never met a blackhole: no test";
    return took;
  });
}

}  // namespace
}  // namespace palyra::transport::sim
