// Stateless Reset (RFC 9000 §10.3) on loopback: a server that restarts with
// the same secret resets its previous life's connections at once, within a
// rate limit, and never with a packet as large as the one that caused it.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "../test_pki.hpp"
#include "palyra/transport/io/client.hpp"
#include "palyra/transport/io/server.hpp"
#include "raw_quic.hpp"
#include "stateless_packets.hpp"
#include "test_server.hpp"

namespace palyra::transport {
namespace {

using namespace std::chrono_literals;
using testing::EchoServer;
using testing::RawUdp;
using testing::TestPki;

class StatelessResetTest : public ::testing::Test {
 protected:
  ServerTlsConfig server_tls(const ServerSecret& secret) const {
    ServerTlsConfig tls = pki_.server_tls();
    tls.secret = secret;
    return tls;
  }
  ClientTlsConfig client_tls() const { return pki_.device_tls(); }
  static Limits limits() {
    Limits limits;
    limits.handshake_timeout = 3s;
    limits.idle_timeout = 30s;  // far beyond what the tests wait: a reset is what ends them
    return limits;
  }
  // Connects to `server` and completes one round trip.
  std::unique_ptr<Client> connected_client(EchoServer& server) {
    auto client = Client::connect(server.address(), client_tls(), limits());
    EXPECT_TRUE(client.ok()) << client.error().describe();
    if (!client) return nullptr;
    auto stream = (*client)->open_stream();
    EXPECT_TRUE(stream.ok());
    EXPECT_TRUE((*stream)->write_frame("before the restart").ok());
    auto frame = (*client)->read_frame(**stream, 5s);
    EXPECT_TRUE(frame.ok() && frame->has_value());
    return std::move(*client);
  }
  // A request after the restart: what the client's read ends with.
  static Error request_after_restart(Client& client, std::chrono::milliseconds wait) {
    auto stream = client.open_stream();
    if (!stream) return stream.error();
    (void)(*stream)->write_frame("after the restart");
    auto frame = client.read_frame(**stream, wait);
    if (frame) return Error(Errc::Internal, "the request was answered");
    return frame.error();
  }

  TestPki pki_;
  ServerSecret secret_ = generate_server_secret();
};

TEST_F(StatelessResetTest, RestartedServerResetsItsPreviousConnections) {
  auto first = std::make_unique<EchoServer>(server_tls(secret_), limits());
  ASSERT_TRUE(first->ok());
  const std::string address = first->address().to_string();
  auto client = connected_client(*first);
  ASSERT_TRUE(client);
  first.reset();  // a crash: no CONNECTION_CLOSE goes out

  EchoServer second(server_tls(secret_), limits(), nullptr, address);
  ASSERT_TRUE(second.ok()) << second.bind_error();
  Error error = request_after_restart(*client, 5s);
  EXPECT_EQ(error.code(), Errc::ConnectionClosed) << error.describe();
  EXPECT_NE(error.message().find("stateless reset"), std::string::npos) << error.describe();
  EXPECT_GE(second.on_loop([](Server& s) { return s.stats().stateless_resets_sent; }), 1u);
}

// An idle client says nothing but its keep-alive PING, the smallest packet
// there is: that alone must be enough to be reset.
TEST_F(StatelessResetTest, IdleClientIsResetByItsKeepAlive) {
  auto first = std::make_unique<EchoServer>(server_tls(secret_), limits());
  ASSERT_TRUE(first->ok());
  const std::string address = first->address().to_string();
  Limits idle = limits();
  idle.keep_alive_interval = 200ms;
  auto client = Client::connect(first->address(), client_tls(), idle);
  ASSERT_TRUE(client.ok()) << client.error().describe();
  first.reset();

  EchoServer second(server_tls(secret_), limits(), nullptr, address);
  ASSERT_TRUE(second.ok()) << second.bind_error();
  auto ended = (*client)->run_until([] { return false; }, 5s);
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error().code(), Errc::ConnectionClosed) << ended.error().describe();
  EXPECT_NE(ended.error().message().find("stateless reset"), std::string::npos)
      << ended.error().describe();
}

// The reset token is bound to the secret: a server with another secret
// cannot end the connection (its resets do not match), so the client waits.
TEST_F(StatelessResetTest, ServerWithAnotherSecretCannotResetTheConnection) {
  auto first = std::make_unique<EchoServer>(server_tls(secret_), limits());
  ASSERT_TRUE(first->ok());
  const std::string address = first->address().to_string();
  auto client = connected_client(*first);
  ASSERT_TRUE(client);
  first.reset();

  EchoServer second(server_tls(generate_server_secret()), limits(), nullptr, address);
  ASSERT_TRUE(second.ok()) << second.bind_error();
  Error error = request_after_restart(*client, 1500ms);
  EXPECT_EQ(error.code(), Errc::Timeout) << error.describe();
  EXPECT_GE(second.on_loop([](Server& s) { return s.stats().stateless_resets_sent; }), 1u);
}

TEST_F(StatelessResetTest, ResetsAreRateLimitedAndSmallerThanTheirTrigger) {
  Limits limited = limits();
  limited.stateless_resets_per_second = 10;
  EchoServer server(server_tls(secret_), limited);
  ASSERT_TRUE(server.ok());
  RawUdp sender;
  std::mt19937 rng(14);
  // Too short to be answered: nothing comes back, no budget is spent.
  ASSERT_TRUE(sender.send_to(server.address(),
                             testing::short_header_packet(testing::random_bytes_for_test(16, rng),
                                                          kMinStatelessResetTrigger - 1, rng)));
  EXPECT_FALSE(sender.receive(200));
  constexpr std::size_t kSent = 200;
  constexpr std::size_t kTrigger = 60;
  for (std::size_t i = 0; i < kSent; ++i) {
    ASSERT_TRUE(sender.send_to(
        server.address(),
        testing::short_header_packet(testing::random_bytes_for_test(16, rng), kTrigger, rng)));
  }
  std::size_t answers = 0;
  while (auto reset = sender.receive(300)) {
    ++answers;
    EXPECT_LT(reset->size(), kTrigger);
    EXPECT_EQ((*reset)[0] & 0xc0, 0x40) << "a reset looks like a short-header packet";
  }
  auto stats = server.on_loop([](Server& s) { return s.stats(); });
  // The burst, plus what the bucket refilled while the packets arrived.
  EXPECT_GE(answers, 10u);
  EXPECT_LE(answers, 15u);
  EXPECT_EQ(stats.stateless_resets_sent, answers);
  EXPECT_EQ(stats.stateless_resets_sent + stats.stateless_resets_suppressed, kSent);
}

}  // namespace
}  // namespace palyra::transport
