// NEW_TOKEN on loopback (RFC 9000 §8.1.3): a server that Retries every new
// client gives each established one a token, and the client's next
// connection presents it and is let in without the Retry. A token from
// another address, an expired one or a forged one proves nothing: its
// Initial is treated as token-less (a Retry), never refused. Real servers
// and clients; the Retry count is the server's own.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <random>

#include "../../common/manual_clock.hpp"
#include "../test_pki.hpp"
#include "palyra/transport/io/address_token_store.hpp"
#include "palyra/transport/io/client.hpp"
#include "palyra/transport/io/server.hpp"
#include "raw_quic.hpp"
#include "test_server.hpp"

namespace palyra::transport {
namespace {

using namespace std::chrono_literals;
using testing::EchoServer;
using testing::TestPki;

constexpr const char* kServerName = "localhost";  // ClientTlsConfig's default

class NewTokenTest : public ::testing::Test {
 protected:
  ServerTlsConfig server_tls(std::shared_ptr<const palyra::Clock> clock = system_clock()) const {
    ServerTlsConfig tls = pki_.server_tls();
    tls.clock = std::move(clock);
    return tls;
  }
  ClientTlsConfig client_tls(const TestPki::Pair* device = nullptr) const {
    ClientTlsConfig tls;
    tls.ca_file = pki_.ca_cert();
    tls.cert_file = device ? device->cert : pki_.device_cert();
    tls.key_file = device ? device->key : pki_.device_key();
    return tls;
  }
  static Limits limits_with(RetryPolicy retry) {
    Limits limits;
    limits.handshake_timeout = 3s;
    limits.retry = retry;
    return limits;
  }
  static ServerStats stats_of(EchoServer& server) {
    return server.on_loop([](Server& s) { return s.stats(); });
  }
  // Connects with the store, waits for the server's NEW_TOKEN (it follows
  // the handshake) and closes.
  void connect_and_collect_token(const SocketAddress& server, const ClientTlsConfig& tls) {
    auto client = Client::connect(server, tls, limits_with(RetryPolicy::Never), {}, tokens_);
    ASSERT_TRUE(client.ok()) << client.error().describe();
    ASSERT_TRUE((*client)->run_until([this] { return tokens_->size() > 0; }, 3s))
        << "no NEW_TOKEN from the server";
    (*client)->close();
  }
  static SocketAddress on_port(const char* host, const SocketAddress& server) {
    return SocketAddress::from_host_and_port(host, server.port()).value();
  }

  TestPki pki_;
  std::shared_ptr<AddressTokenStore> tokens_ = std::make_shared<AddressTokenStore>();
};

// The issue's case: a node reconnecting to a server that makes everyone
// prove their address skips the Retry. Each connection is a new socket (a
// new port): the token is bound to the IP address alone.
TEST_F(NewTokenTest, ReconnectWithTheTokenSkipsTheRetry) {
  EchoServer server(server_tls(), limits_with(RetryPolicy::Always));
  ASSERT_TRUE(server.ok()) << server.bind_error();
  connect_and_collect_token(server.address(), client_tls());
  EXPECT_EQ(stats_of(server).retries_sent, 1u);
  EXPECT_EQ(stats_of(server).new_tokens_issued, 1u);
  const auto first_token = tokens_->token_for(server.address(), kServerName);
  ASSERT_TRUE(first_token);

  connect_and_collect_token(server.address(), client_tls());
  const ServerStats stats = stats_of(server);
  EXPECT_EQ(stats.retries_sent, 1u) << "the second connection went through a Retry";
  EXPECT_EQ(stats.new_tokens_accepted, 1u);
  EXPECT_EQ(stats.new_tokens_ignored, 0u);
  EXPECT_EQ(server.established.load(), 2);
  // A fresh token for the next time, in place of the first.
  EXPECT_EQ(stats.new_tokens_issued, 2u);
  EXPECT_NE(tokens_->token_for(server.address(), kServerName), first_token);
  EXPECT_EQ(tokens_->size(), 1u);
}

// A token given to 127.0.0.1 and presented from ::1 (one dual-stack
// server, the same port): the address is not proven, so the Retry comes.
TEST_F(NewTokenTest, TokenFromAnotherAddressGetsRetry) {
  EchoServer server(server_tls(), limits_with(RetryPolicy::Always), nullptr, "[::]:0");
  ASSERT_TRUE(server.ok()) << server.bind_error();
  const SocketAddress v4 = on_port("127.0.0.1", server.address());
  const SocketAddress v6 = on_port("::1", server.address());
  connect_and_collect_token(v4, client_tls());
  ASSERT_EQ(stats_of(server).retries_sent, 1u);
  auto token = tokens_->token_for(v4, kServerName);
  ASSERT_TRUE(token);
  tokens_->keep(v6, kServerName, *token);

  auto client = Client::connect(v6, client_tls(), limits_with(RetryPolicy::Never), {}, tokens_);
  ASSERT_TRUE(client.ok()) << client.error().describe();
  const ServerStats stats = stats_of(server);
  EXPECT_EQ(stats.new_tokens_ignored, 1u) << "the token was not presented";
  EXPECT_EQ(stats.new_tokens_accepted, 0u);
  EXPECT_EQ(stats.retries_sent, 2u);
  EXPECT_EQ(stats.invalid_tokens, 0u);
}

// Past kNewTokenLifetime (24 h on the server's clock) the token is
// ignored and the client goes through a Retry.
TEST_F(NewTokenTest, ExpiredTokenGetsRetry) {
  auto clock = std::make_shared<palyra::testing::ManualClock>();
  EchoServer server(server_tls(clock), limits_with(RetryPolicy::Always));
  ASSERT_TRUE(server.ok()) << server.bind_error();
  // A device certificate that is still valid a day later.
  const auto device = pki_.issue_device("long-lived", -1h, 72h);
  connect_and_collect_token(server.address(), client_tls(&device));
  clock->advance(24h);
  auto client = Client::connect(server.address(), client_tls(&device),
                                limits_with(RetryPolicy::Never), {}, tokens_);
  ASSERT_TRUE(client.ok()) << client.error().describe();
  const ServerStats stats = stats_of(server);
  EXPECT_EQ(stats.new_tokens_ignored, 1u);
  EXPECT_EQ(stats.new_tokens_accepted, 0u);
  EXPECT_EQ(stats.retries_sent, 2u);
}

// A forged token of the NEW_TOKEN kind is no error (RFC 9000 §8.1.3): a
// server that Retries sends the Retry, one that does not lets it in; neither
// closes as it does for a bad Retry token.
TEST_F(NewTokenTest, ForgedTokenIsTreatedAsNoToken) {
  std::mt19937 rng(21);
  auto forged = testing::random_bytes_for_test(57, rng);
  forged[0] = 0x36;  // NGTCP2_CRYPTO_TOKEN_MAGIC_REGULAR
  const std::string forged_token(forged.begin(), forged.end());
  for (RetryPolicy retry : {RetryPolicy::Always, RetryPolicy::Never}) {
    EchoServer server(server_tls(), limits_with(retry));
    ASSERT_TRUE(server.ok()) << server.bind_error();
    tokens_->keep(server.address(), kServerName, forged_token);
    auto client = Client::connect(server.address(), client_tls(), limits_with(RetryPolicy::Never),
                                  {}, tokens_);
    ASSERT_TRUE(client.ok()) << client.error().describe();
    const ServerStats stats = stats_of(server);
    EXPECT_EQ(stats.new_tokens_ignored, 1u);
    EXPECT_EQ(stats.invalid_tokens, 0u);
    EXPECT_EQ(stats.retries_sent, retry == RetryPolicy::Always ? 1u : 0u);
    EXPECT_TRUE(server.refusals().empty());
  }
}

}  // namespace
}  // namespace palyra::transport
