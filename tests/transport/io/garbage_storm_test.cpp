// The hostile-network issue on loopback: datagrams that cannot be ours
// (random bytes, truncated long headers, other QUIC versions, short headers
// for unknown connection IDs) from many source ports at a running server,
// while a real client connects and makes calls. Every one of them is
// counted as dropped, none leaves a connection or a handshake behind, the
// client is served, and before address validation the server never sends
// more than three times what it received (RFC 9000 §8.1).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <numeric>
#include <random>
#include <thread>

#include "../test_pki.hpp"
#include "palyra/transport/io/client.hpp"
#include "palyra/transport/io/server.hpp"
#include "raw_quic.hpp"
#include "test_server.hpp"

namespace palyra::transport {
namespace {

using namespace std::chrono_literals;
using testing::EchoServer;
using testing::RawUdp;
using testing::TestPki;

constexpr std::uint8_t kOtherVersion[] = {0x1a, 0x2a, 0x3a, 0x4a};  // a greasing version

std::uint64_t dropped_total(const ServerStats& stats) {
  return std::accumulate(stats.datagrams_dropped.begin(), stats.datagrams_dropped.end(),
                         std::uint64_t{0});
}

// A long header of `version` and `size` bytes, with 8-byte CIDs.
std::vector<std::uint8_t> long_header(const std::uint8_t (&version)[4], std::uint8_t type_bits,
                                      std::size_t size, std::mt19937& rng) {
  auto p = testing::random_bytes_for_test(size, rng);
  p[0] = type_bits;
  std::copy(std::begin(version), std::end(version), p.begin() + 1);
  p[5] = 8;                  // DCID length, then the DCID
  if (size > 14) p[14] = 8;  // SCID length, then the SCID
  return p;
}

// The i-th datagram of the storm: each kind a fifth of the time.
std::vector<std::uint8_t> garbage(std::size_t i, std::mt19937& rng) {
  constexpr std::uint8_t kV1[] = {0, 0, 0, 1};
  switch (i % 5) {
    case 0:  // noise of any length
      return testing::random_bytes_for_test(1 + rng() % 1400, rng);
    case 1: {  // a v1 Initial cut short anywhere
      auto p = testing::crafted_initial(testing::random_bytes_for_test(16, rng),
                                        testing::random_bytes_for_test(16, rng), {}, rng);
      p.resize(1 + rng() % 200);
      return p;
    }
    case 2:  // another version, Initial-sized or not
      return long_header(kOtherVersion, 0xc0, i % 2 == 0 ? 1200 : 1 + 15 + rng() % 1000, rng);
    case 3:  // a short header for a connection nobody has
      return testing::short_header_packet(testing::random_bytes_for_test(16, rng), 17 + rng() % 200,
                                          rng);
    default:  // a v1 Handshake packet for no connection
      return long_header(kV1, 0xe0, 40 + rng() % 1200, rng);
  }
}

class GarbageStormTest : public ::testing::Test {
 protected:
  ServerTlsConfig server_tls() const { return pki_.server_tls(); }
  ClientTlsConfig client_tls() const { return pki_.device_tls(); }
  static Limits limits() {
    Limits limits;
    limits.handshake_timeout = 5s;
    limits.retry = RetryPolicy::Never;
    return limits;
  }
  static ServerStats stats_of(EchoServer& server) {
    return server.on_loop([](Server& s) { return s.stats(); });
  }
  // Waits (at most 5 s) until the server has counted `n` drops.
  static bool dropped_reaches(EchoServer& server, std::uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (dropped_total(stats_of(server)) < n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }

  TestPki pki_;
};

TEST_F(GarbageStormTest, GarbageIsDroppedStatelesslyWhileClientsAreServed) {
  Limits storm_limits = limits();
  // 200 Version Negotiations and ~400 resets are due: far over a budget of
  // 10 (and 10 a second), however slowly the storm runs.
  storm_limits.stateless_resets_per_second = 10;
  EchoServer server(server_tls(), storm_limits);
  ASSERT_TRUE(server.ok()) << server.bind_error();
  constexpr std::size_t kSources = 32, kBatch = 40, kBatches = 50;
  std::atomic<std::uint64_t> sent{0};
  std::atomic<bool> kept_pace{true}, storm_over{false};
  // The attacker: batches from many source ports, each batch taken in (and
  // counted) before the next, so the kernel's socket buffer never decides.
  std::thread attacker([&] {
    std::mt19937 rng(20);
    std::vector<std::unique_ptr<RawUdp>> sources;
    for (std::size_t i = 0; i < kSources; ++i) sources.push_back(std::make_unique<RawUdp>());
    for (std::size_t b = 0; b < kBatches && kept_pace; ++b) {
      for (std::size_t i = 0; i < kBatch; ++i) {
        const std::size_t n = b * kBatch + i;
        if (sources[n % kSources]->send_to(server.address(), garbage(n, rng))) ++sent;
      }
      kept_pace = dropped_reaches(server, sent);
    }
    storm_over = true;
  });
  // Clients connect and call throughout the storm (at least 5, at most 200).
  std::string failure;
  int calls = 0;
  for (; (calls < 5 || !storm_over) && calls < 200 && failure.empty(); ++calls) {
    auto client = Client::connect(server.address(), client_tls(), limits());
    if (!client) {
      failure = client.error().describe();
      break;
    }
    auto stream = (*client)->open_stream();
    if (!stream || !(*stream)->write_frame("ping").ok()) failure = "no stream";
    if (!failure.empty()) break;
    (*stream)->finish();
    auto frame = (*client)->read_frame(**stream, 5s);
    if (!frame || !*frame || **frame != "ping") failure = "no echo";
  }
  attacker.join();
  EXPECT_TRUE(failure.empty()) << failure;
  ASSERT_TRUE(kept_pace) << "the server did not count the storm's datagrams as dropped";

  const ServerStats stats = stats_of(server);
  EXPECT_EQ(sent.load(), kBatch * kBatches);
  EXPECT_EQ(dropped_total(stats), sent.load());
  EXPECT_EQ(server.established.load(), calls);
  EXPECT_EQ(server.on_loop([](Server& s) { return s.handshake_count(); }), 0u);
  EXPECT_EQ(stats.failed_handshakes, 0u);
  EXPECT_EQ(stats.refused_over_capacity, 0u);
  EXPECT_GT(stats.datagrams_dropped[static_cast<std::size_t>(DropReason::Malformed)], 0u);
  EXPECT_GT(stats.datagrams_dropped[static_cast<std::size_t>(DropReason::UnsupportedVersion)], 0u);
  EXPECT_GT(stats.datagrams_dropped[static_cast<std::size_t>(DropReason::UnknownConnection)], 0u);
  EXPECT_GT(stats.datagrams_dropped[static_cast<std::size_t>(DropReason::NotInitial)], 0u);
  // The stateless answers stay within their rate limits.
  EXPECT_GT(stats.version_negotiations_sent, 0u);
  EXPECT_GT(stats.version_negotiations_suppressed, 0u);
  EXPECT_GT(stats.stateless_resets_suppressed, 0u);
}

// RFC 9000 §6: another version learns ours, but only from a datagram as
// large as an Initial (so the answer never amplifies), and never a Version
// Negotiation in answer to one.
TEST_F(GarbageStormTest, VersionNegotiationOnlyForInitialSizedDatagrams) {
  EchoServer server(server_tls(), limits());
  ASSERT_TRUE(server.ok()) << server.bind_error();
  std::mt19937 rng(21);
  RawUdp sender;
  ASSERT_TRUE(sender.send_to(server.address(), long_header(kOtherVersion, 0xc0, 1199, rng)));
  constexpr std::uint8_t kNegotiation[] = {0, 0, 0, 0};
  ASSERT_TRUE(sender.send_to(server.address(), long_header(kNegotiation, 0xc0, 1200, rng)));
  EXPECT_FALSE(sender.receive(300)) << "answered a datagram smaller than an Initial";

  const auto trigger = long_header(kOtherVersion, 0xc0, 1200, rng);
  ASSERT_TRUE(sender.send_to(server.address(), trigger));
  auto answer = sender.receive(2000);
  ASSERT_TRUE(answer) << "expected a Version Negotiation";
  ASSERT_GE(answer->size(), 7u + 8 + 8 + 4);
  EXPECT_NE((*answer)[0] & 0x80, 0);
  EXPECT_EQ(std::vector<std::uint8_t>(answer->begin() + 1, answer->begin() + 5),
            std::vector<std::uint8_t>(4, 0));
  // Its DCID is our datagram's SCID, and QUIC v1 is on its list.
  EXPECT_EQ(std::vector<std::uint8_t>(answer->begin() + 6, answer->begin() + 14),
            std::vector<std::uint8_t>(trigger.begin() + 15, trigger.begin() + 23));
  EXPECT_EQ(std::vector<std::uint8_t>(answer->end() - 4, answer->end()),
            (std::vector<std::uint8_t>{0, 0, 0, 1}));
  EXPECT_LT(answer->size(), trigger.size());
  const ServerStats stats = stats_of(server);
  EXPECT_EQ(stats.version_negotiations_sent, 1u);
  EXPECT_EQ(stats.datagrams_dropped[static_cast<std::size_t>(DropReason::UnsupportedVersion)], 3u);
  EXPECT_EQ(server.on_loop([](Server& s) { return s.connection_count(); }), 0u);
}

// A real client's Initial from an address that never answers: whatever
// the server's first flight and its retransmissions come to, it sends at
// most three times the 1200 bytes it received.
TEST_F(GarbageStormTest, AmplificationLimitHoldsBeforeValidation) {
  EchoServer server(server_tls(), limits());
  ASSERT_TRUE(server.ok()) << server.bind_error();
  auto context = load_client_tls(client_tls()).value();
  const SocketAddress local = SocketAddress::parse("127.0.0.1:9").value();
  auto client =
      Connection::connect(context, limits(), local, server.address(), monotonic_ns()).value();
  DatagramBatch batch;
  client->write_datagrams(monotonic_ns(), batch);
  ASSERT_FALSE(batch.empty());
  const auto& burst = batch.bursts.front();
  const std::vector<std::uint8_t> initial(
      batch.buffer.begin() + static_cast<long>(burst.offset),
      batch.buffer.begin() +
          static_cast<long>(burst.offset + std::min(burst.length, burst.segment_size)));
  RawUdp silent;
  ASSERT_TRUE(silent.send_to(server.address(), initial));
  std::size_t received = 0, datagrams = 0;
  // Long enough for several probe timeouts' retransmissions.
  const auto deadline = std::chrono::steady_clock::now() + 2500ms;
  while (std::chrono::steady_clock::now() < deadline) {
    auto datagram = silent.receive(100);
    if (!datagram) continue;
    received += datagram->size();
    ++datagrams;
  }
  EXPECT_GT(datagrams, 0u) << "expected the server's first flight";
  EXPECT_LE(received, 3 * initial.size());
}

}  // namespace
}  // namespace palyra::transport
