// The QUIC interop runner's handshake cases over the simulated network:
// handshakes that complete under heavy loss and corruption, on a long round
// trip, through a Retry, and a server that keeps to the 3x amplification
// limit before it has validated the client's address.
#include <ngtcp2/ngtcp2.h>

#include "palyra/common/atomic_file.hpp"
#include "sim_fixture.hpp"

namespace palyra::transport::sim {
namespace {

using HandshakeCases = SimulatedInteropTest;

bool both_established(Network& network) {
  return network.client() && network.server() &&
         network.client()->state() == Connection::State::Established &&
         network.server()->state() == Connection::State::Established;
}

// `count` handshakes one after the other on one network; each must complete
// (the client confirmed, the server verified the client's certificate).
void sequential_handshakes(Network& network, int count, const std::string& device_id) {
  for (int i = 0; i < count; ++i) {
    network.connect();
    const bool done = network.run_until(
        [&] { return both_established(network) || either_closed(network); }, 300 * kSecond);
    ASSERT_TRUE(done && both_established(network))
        << "handshake " << i + 1 << " of " << count << ": " << describe(network);
    ASSERT_EQ(network.server()->peer().device_id, device_id);
  }
}

// handshake: a handshake and a small file over the plain link.
TEST_F(HandshakeCases, Handshake) {
  sweep("handshake", {1, 2, 3}, [&](std::uint64_t seed) {
    auto network = make_network(network_config(seed));
    const std::uint64_t took = transfer(*network, {.files = 1, .file_bytes = 32 * 1024}, kSecond);
    EXPECT_EQ(network->server()->peer().device_id, pki_.device_id());
    return took;
  });
}

// retry: the server answers the first Initial with a Retry (RFC 9000 §8.1),
// the client comes back with the token, and the handshake and a transfer
// complete; the client has checked the server's original_dcid and
// retry_scid transport parameters, or it would have closed.
TEST_F(HandshakeCases, Retry) {
  sweep("retry", {1, 2, 3}, [&](std::uint64_t seed) {
    NetworkConfig config = network_config(seed);
    config.limits.retry = RetryPolicy::Always;
    auto network = make_network(config);
    const std::uint64_t took = transfer(*network, {.files = 1, .file_bytes = 32 * 1024}, kSecond);
    EXPECT_EQ(network->dispatched().retries_sent, 1u);
    EXPECT_EQ(network->dispatched().retry_tokens_validated, 1u);
    EXPECT_EQ(network->dispatched().invalid_tokens, 0u);
    EXPECT_GT(took, 2 * 30 * kMs) << "a Retry costs a round trip more than a handshake";
    return took;
  });
}

// The runner gives each handshake of its loss and corruption cases minutes;
// palyra's defaults give it 10 seconds (and 30 of silence). With the probe
// timeout doubling and one probe packet per timeout, 10 seconds allow about
// four tries of a flight, and at 30 % loss each way some 5 % of handshakes
// fail on the defaults (23 of 500 over seeds 1-10; 6 of 500 with
// corruption). These cases test that the handshake completes at all, so
// they wait as long as the runner does.
void be_patient(Limits& limits) {
  limits.handshake_timeout = std::chrono::seconds(120);
  limits.idle_timeout = std::chrono::seconds(120);
}

// handshakeloss: 50 handshakes in a row with 30 % of the datagrams lost
// each way.
TEST_F(HandshakeCases, HandshakeLoss) {
  sweep("handshakeloss", {1, 2, 3}, [&](std::uint64_t seed) {
    NetworkConfig config = network_config(seed);
    be_patient(config.limits);
    config.to_server.loss = 0.3;
    config.to_client.loss = 0.3;
    auto network = make_network(config);
    sequential_handshakes(*network, 50, pki_.device_id());
    return network->elapsed_ns();
  });
}

// handshakecorruption: 50 handshakes in a row with 30 % of the datagrams
// carrying a flipped bit each way.
TEST_F(HandshakeCases, HandshakeCorruption) {
  sweep("handshakecorruption", {1, 2, 3}, [&](std::uint64_t seed) {
    NetworkConfig config = network_config(seed);
    be_patient(config.limits);
    config.to_server.corrupt = 0.3;
    config.to_client.corrupt = 0.3;
    auto network = make_network(config);
    sequential_handshakes(*network, 50, pki_.device_id());
    EXPECT_GT(network->to_server().counters().corrupted, 0u);
    return network->elapsed_ns();
  });
}

// longrtt: a 750 ms round trip, longer than the initial RTT estimate, so
// the first probes fire before any answer can arrive; then a file.
TEST_F(HandshakeCases, LongRtt) {
  sweep("longrtt", {1, 2, 3}, [&](std::uint64_t seed) {
    NetworkConfig config = network_config(seed);
    config.to_server.delay_ns = 375 * kMs;
    config.to_client.delay_ns = 375 * kMs;
    auto network = make_network(config);
    const std::uint64_t took =
        transfer(*network, {.files = 2, .file_bytes = 1024 * 1024}, 60 * kSecond);
    EXPECT_GT(took, 2 * 750 * kMs) << "faster than two round trips: the delay did not apply";
    return took;
  });
}

// The long-header packets of a datagram: true when one is a Handshake
// packet (the client's proof that it owns its address, RFC 9000 §8.1).
bool carries_handshake_packet(std::span<const std::uint8_t> datagram) {
  std::size_t at = 0;
  auto varint = [&](std::uint64_t& value) {
    if (at >= datagram.size()) return false;
    const std::size_t length = std::size_t{1} << (datagram[at] >> 6);
    if (at + length > datagram.size()) return false;
    value = datagram[at] & 0x3f;
    for (std::size_t i = 1; i < length; ++i) value = (value << 8) | datagram[at + i];
    at += length;
    return true;
  };
  while (at + 6 < datagram.size() && (datagram[at] & 0x80) != 0) {
    const unsigned type = (datagram[at] >> 4) & 0x3;
    if (type == 2) return true;  // Handshake
    at += 5;                     // first byte, version
    at += 1 + datagram[at];      // DCID
    if (at >= datagram.size()) return false;
    at += 1 + datagram[at];  // SCID
    std::uint64_t length = 0;
    if (type == 0 && (!varint(length) || (at += length) > datagram.size())) return false;
    if (!varint(length)) return false;
    at += length;  // packet number and payload
  }
  return false;
}

// amplificationlimit: the server's certificate is large (the runner uses a
// 9-certificate chain; ours is one certificate with 120 long names, about
// as many bytes), and the client's datagrams 2 to 7 are lost. Until the
// server has received a Handshake packet from the client it must not have
// sent more than three times the bytes it received (RFC 9000 §8.1).
TEST_F(HandshakeCases, AmplificationLimit) {
  identity::ServerCertificateRequest names;
  names.name = "localhost";
  names.ip_addresses = {"127.0.0.1"};
  for (int i = 0; i < 120; ++i) {
    names.dns_names.push_back(
        fmt::format("a-rather-long-host-name-{:03}.amplification-limit.palyra.test", i));
  }
  auto issued = std::move(pki_.ca().issue_server(names)).value();
  const auto chain = pki_.dir() / "large-chain.pem";
  const auto key = pki_.dir() / "large.key";
  ASSERT_TRUE(
      write_file_atomically(chain, issued.certificate.pem() + pki_.ca().certificate().pem(), 0644));
  ASSERT_TRUE(write_file_atomically(key, issued.key.pem(), 0600));
  use_server_chain(chain, key);

  sweep("amplificationlimit", {1, 2, 3, 4, 5}, [&](std::uint64_t seed) {
    NetworkConfig config = network_config(seed);
    config.to_server.drop = [](std::uint64_t number) { return number >= 2 && number <= 7; };
    auto network = make_network(config);
    std::uint64_t received = 0;
    std::uint64_t sent = 0;
    std::uint64_t first_datagram = 0;
    bool validated = false;
    std::uint64_t handshake_bytes = 0;  // all the server sent until both are established
    std::uint64_t worst_excess = 0;     // most bytes sent beyond three times received
    network->on_server_received = [&](std::span<const std::uint8_t> datagram) {
      if (first_datagram == 0) first_datagram = datagram.size();
      if (validated) return;
      received += datagram.size();
      validated = carries_handshake_packet(datagram);
    };
    network->on_server_sent = [&](std::span<const std::uint8_t> datagram) {
      handshake_bytes += datagram.size();
      if (validated) return;
      sent += datagram.size();
      if (sent > 3 * received) worst_excess = std::max(worst_excess, sent - 3 * received);
    };
    network->connect();
    const bool done = network->run_until(
        [&] { return both_established(*network) || either_closed(*network); }, 60 * kSecond);
    EXPECT_TRUE(done && both_established(*network)) << describe(*network);
    EXPECT_EQ(worst_excess, 0u) << "the server sent " << sent << " bytes having received "
                                << received << " before validating the client's address";
    // The limit must have bound: the server's handshake is larger than
    // three times the client's first datagram.
    EXPECT_GT(handshake_bytes, 3 * first_datagram)
        << "the certificate is too small to test the limit";
    EXPECT_GE(network->to_server().counters().lost, 6u);
    return network->elapsed_ns();
  });
}

}  // namespace
}  // namespace palyra::transport::sim
