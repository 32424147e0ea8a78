// PROTOCOL.md §8 on loopback: Retry, bad tokens, the handshake limits under
// a flood of crafted Initials, and Stateless Resets after a restart. Real
// servers and clients; the attacker sends hand-made packets (raw_quic.hpp).
#include <gtest/gtest.h>

#include <chrono>
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
using testing::crafted_initial;
using testing::EchoServer;
using testing::RawUdp;
using testing::TestPki;

class AddressValidationTest : public ::testing::Test {
 protected:
  ServerTlsConfig server_tls(std::optional<ServerSecret> secret = std::nullopt) const {
    ServerTlsConfig tls = pki_.server_tls();
    tls.secret = secret;
    return tls;
  }
  ClientTlsConfig client_tls() const { return pki_.device_tls(); }
  static Limits limits_with(RetryPolicy retry) {
    Limits limits;
    limits.handshake_timeout = 3s;
    limits.retry = retry;
    return limits;
  }
  std::vector<std::uint8_t> random_cid(std::size_t n = 16) {
    return testing::random_bytes_for_test(n, rng_);
  }
  static ServerStats stats_of(EchoServer& server) {
    return server.on_loop([](Server& s) { return s.stats(); });
  }
  static std::size_t handshakes_of(EchoServer& server) {
    return server.on_loop([](Server& s) { return s.handshake_count(); });
  }
  static std::size_t connections_of(EchoServer& server) {
    return server.on_loop([](Server& s) { return s.connection_count(); });
  }

  // A real client connection (ngtcp2 + GnuTLS) whose datagrams the test
  // carries itself, from whichever socket it likes.
  struct ScriptedClient {
    std::unique_ptr<Connection> connection;
    // The first datagram of what the connection has to send now.
    std::vector<std::uint8_t> next_datagram() {
      DatagramBatch batch;
      connection->write_datagrams(monotonic_ns(), batch);
      if (batch.bursts.empty()) return {};
      const auto& burst = batch.bursts.front();
      const std::size_t length = std::min(burst.length, burst.segment_size);
      return {batch.buffer.begin() + static_cast<long>(burst.offset),
              batch.buffer.begin() + static_cast<long>(burst.offset + length)};
    }
    void receive(const SocketAddress& from, const std::vector<std::uint8_t>& datagram) {
      connection->receive(local, from, datagram, monotonic_ns());
    }
    SocketAddress local = SocketAddress::parse("127.0.0.1:9").value();
  };
  ScriptedClient scripted_client(const SocketAddress& server) {
    if (!client_context_) client_context_ = load_client_tls(client_tls()).value();
    ScriptedClient client;
    client.connection = Connection::connect(client_context_, limits_with(RetryPolicy::Never),
                                            client.local, server, monotonic_ns())
                            .value();
    return client;
  }

  TestPki pki_;
  std::mt19937 rng_{14};
  std::shared_ptr<const ClientTlsContext> client_context_;
};

TEST_F(AddressValidationTest, ClientConnectsThroughRetry) {
  EchoServer server(server_tls(), limits_with(RetryPolicy::Always));
  ASSERT_TRUE(server.ok()) << server.bind_error();
  // ngtcp2's client answers the Retry itself and checks our original_dcid
  // and retry_scid transport parameters (RFC 9000 §7.3); a mismatch fails
  // the handshake.
  auto client = Client::connect(server.address(), client_tls(), limits_with(RetryPolicy::Never));
  ASSERT_TRUE(client.ok()) << client.error().describe();
  EXPECT_EQ(stats_of(server).retries_sent, 1u);
  EXPECT_EQ(server.established.load(), 1);
}

TEST_F(AddressValidationTest, TokenlessInitialGetsRetryAndNoState) {
  EchoServer server(server_tls(), limits_with(RetryPolicy::Always));
  ASSERT_TRUE(server.ok());
  RawUdp attacker;
  ASSERT_TRUE(
      attacker.send_to(server.address(), crafted_initial(random_cid(), random_cid(), {}, rng_)));
  auto answer = attacker.receive(2000);
  ASSERT_TRUE(answer);
  EXPECT_TRUE(testing::parse_retry(*answer)) << "expected a Retry packet";
  EXPECT_EQ(connections_of(server), 0u);
}

// A Retry token is good only for the address it was given to and for a few
// seconds; anything else is answered with CONNECTION_CLOSE(INVALID_TOKEN)
// and leaves no state. The genuine token, from its own address, does
// create a connection (so the refusals are about the token).
TEST_F(AddressValidationTest, ForgedReplayedAndExpiredTokensGetNoState) {
  EchoServer server(server_tls(), limits_with(RetryPolicy::Always));
  ASSERT_TRUE(server.ok());
  RawUdp client, other;
  const auto scid = random_cid();
  ASSERT_TRUE(client.send_to(server.address(), crafted_initial(random_cid(), scid, {}, rng_)));
  auto answer = client.receive(2000);
  ASSERT_TRUE(answer);
  auto retry = testing::parse_retry(*answer);
  ASSERT_TRUE(retry);

  // Forged: our magic byte, noise after it.
  auto forged = testing::random_bytes_for_test(retry->token.size(), rng_);
  forged[0] = retry->token[0];
  ASSERT_TRUE(client.send_to(server.address(), crafted_initial(retry->scid, scid, forged, rng_)));
  ASSERT_TRUE(client.receive(2000)) << "expected CONNECTION_CLOSE(INVALID_TOKEN)";
  // Replayed from another address (another port of the same host).
  ASSERT_TRUE(
      other.send_to(server.address(), crafted_initial(retry->scid, scid, retry->token, rng_)));
  ASSERT_TRUE(other.receive(2000)) << "expected CONNECTION_CLOSE(INVALID_TOKEN)";
  EXPECT_EQ(stats_of(server).invalid_tokens, 2u);
  EXPECT_EQ(connections_of(server), 0u);

  // Expired: the token from its own address after its lifetime (3 s).
  std::this_thread::sleep_for(3200ms);
  ASSERT_TRUE(
      client.send_to(server.address(), crafted_initial(retry->scid, scid, retry->token, rng_)));
  ASSERT_TRUE(client.receive(2000)) << "expected CONNECTION_CLOSE(INVALID_TOKEN)";
  EXPECT_EQ(stats_of(server).invalid_tokens, 3u);
  EXPECT_EQ(connections_of(server), 0u);
}

// The real thing: a client's Initial after our Retry carries the token and
// creates a connection from its own address, and nothing from another.
TEST_F(AddressValidationTest, RetryTokenValidatesOnlyItsOwnAddress) {
  EchoServer server(server_tls(), limits_with(RetryPolicy::Always));
  ASSERT_TRUE(server.ok());
  RawUdp own, other;
  auto client = scripted_client(server.address());
  ASSERT_TRUE(own.send_to(server.address(), client.next_datagram()));
  auto retry = own.receive(2000);
  ASSERT_TRUE(retry && testing::parse_retry(*retry));
  client.receive(server.address(), *retry);
  const auto with_token = client.next_datagram();
  ASSERT_FALSE(with_token.empty());

  ASSERT_TRUE(other.send_to(server.address(), with_token));
  ASSERT_TRUE(other.receive(2000)) << "expected CONNECTION_CLOSE(INVALID_TOKEN)";
  EXPECT_EQ(stats_of(server).invalid_tokens, 1u);
  EXPECT_EQ(connections_of(server), 0u);

  ASSERT_TRUE(own.send_to(server.address(), with_token));
  ASSERT_TRUE(own.receive(2000)) << "expected the server's first flight";
  EXPECT_EQ(stats_of(server).invalid_tokens, 1u);
  EXPECT_EQ(connections_of(server), 1u);
}

// Issue 14's attack: real Initials whose handshakes are never continued, from many
// source ports, more than the connection cap. With Retry on (auto) they get
// a Retry each once past the per-address limit and hold at most that many
// handshake slots; a real client still connects within 3 s.
TEST_F(AddressValidationTest, LegitimateClientConnectsDuringInitialFlood) {
  Limits limits = limits_with(RetryPolicy::Auto);
  limits.max_connections = 32;
  limits.handshake_timeout = 10s;  // the flood's slots stay taken throughout
  EchoServer server(server_tls(), limits);
  ASSERT_TRUE(server.ok());
  std::vector<std::unique_ptr<RawUdp>> sources;
  const std::size_t flood = limits.max_connections + 100;
  for (std::size_t i = 0; i < flood; ++i) {
    sources.push_back(std::make_unique<RawUdp>());
    ASSERT_TRUE(sources.back()->send_to(server.address(),
                                        scripted_client(server.address()).next_datagram()));
  }
  std::this_thread::sleep_for(200ms);  // let the server take them all in
  EXPECT_LE(handshakes_of(server), limits.max_handshakes_per_address);
  EXPECT_GE(stats_of(server).retries_sent, flood - limits.max_handshakes_per_address);

  Limits client_limits = limits_with(RetryPolicy::Never);
  client_limits.handshake_timeout = 3s;  // connected within 3 s, or failed
  auto client = Client::connect(server.address(), client_tls(), client_limits);
  ASSERT_TRUE(client.ok()) << client.error().describe();
  EXPECT_EQ(server.established.load(), 1);
}

// With Retry off, the per-address limit still holds: the flood's Initials
// past it are refused without state.
TEST_F(AddressValidationTest, PerAddressLimitWithoutRetry) {
  Limits limits = limits_with(RetryPolicy::Never);
  limits.handshake_timeout = 10s;
  EchoServer server(server_tls(), limits);
  ASSERT_TRUE(server.ok());
  std::vector<std::unique_ptr<RawUdp>> sources;
  for (std::size_t i = 0; i < 3 * limits.max_handshakes_per_address; ++i) {
    sources.push_back(std::make_unique<RawUdp>());
    ASSERT_TRUE(sources.back()->send_to(server.address(),
                                        scripted_client(server.address()).next_datagram()));
  }
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(handshakes_of(server), limits.max_handshakes_per_address);
  EXPECT_EQ(stats_of(server).refused_over_capacity, 2 * limits.max_handshakes_per_address);
  EXPECT_EQ(stats_of(server).retries_sent, 0u);
}

}  // namespace
}  // namespace palyra::transport
