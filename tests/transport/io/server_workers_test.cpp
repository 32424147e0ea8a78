// Servers as workers of one port on loopback (ARCHITECTURE.md, Workers):
// the kernel spreads clients over the workers' sockets, a client whose NAT
// rebinds keeps its connection when its datagrams reach another worker's
// socket (they are handed over through the owner's inbox), and the
// connection cap holds across workers.
#include "palyra/transport/io/server_workers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "../test_pki.hpp"
#include "palyra/transport/io/client.hpp"
#include "palyra/transport/io/server.hpp"
#include "test_server.hpp"
#include "udp_nat.hpp"

namespace palyra::transport {
namespace {

using namespace std::chrono_literals;
using testing::EchoServer;
using testing::TestPki;
using testing::UdpNat;

class ServerWorkersTest : public ::testing::Test {
 protected:
  static Limits limits() {
    Limits limits;
    limits.handshake_timeout = 3s;
    limits.idle_timeout = 30s;
    return limits;
  }
  // `count` echo servers on one port, worker 0 first.
  void start_workers(std::size_t count, Limits server_limits = limits()) {
    workers_ = ServerWorkers::create(count, server_limits).value();
    for (std::size_t i = 0; i < count; ++i) {
      servers_.push_back(std::make_unique<EchoServer>(pki_.server_tls(), server_limits, nullptr,
                                                      "127.0.0.1:0", ServerWorker{workers_, i}));
      ASSERT_TRUE(servers_.back()->ok()) << servers_.back()->bind_error();
    }
  }
  ServerStats stats_of(std::size_t worker) {
    return servers_[worker]->on_loop([](Server& s) { return s.stats(); });
  }
  static bool echoes(Client& client, const std::string& text) {
    auto stream = client.open_stream(5s);
    if (!stream || !(*stream)->write_frame(text).ok()) return false;
    auto frame = client.read_frame(**stream, 5s);
    return frame && frame->has_value() && **frame == text;
  }

  TestPki pki_;
  std::shared_ptr<ServerWorkers> workers_;
  std::vector<std::unique_ptr<EchoServer>> servers_;
};

TEST_F(ServerWorkersTest, TheWorkersShareOnePortAndEachGetsClients) {
  start_workers(2);
  ASSERT_EQ(servers_[0]->address().port(), servers_[1]->address().port());
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 24; ++i) {
    auto client = Client::connect(servers_[0]->address(), pki_.device_tls(), limits());
    ASSERT_TRUE(client) << client.error().describe();
    ASSERT_TRUE(echoes(**client, "hello " + std::to_string(i)));
    clients.push_back(std::move(*client));
  }
  // Each client has its own source port: the kernel's hash spreads them.
  // 24 clients all on one of two workers would happen once in 2^23 runs.
  EXPECT_GT(servers_[0]->established.load(), 0);
  EXPECT_GT(servers_[1]->established.load(), 0);
  EXPECT_EQ(servers_[0]->established.load() + servers_[1]->established.load(), 24);
  EXPECT_EQ(workers_->connections(), 24u);
}

TEST_F(ServerWorkersTest, ARebindingClientKeepsItsConnectionOnAnotherWorkersSocket) {
  start_workers(2);
  UdpNat nat(servers_[0]->address());
  auto client = Client::connect(nat.front_address(), pki_.device_tls(), limits());
  ASSERT_TRUE(client) << client.error().describe();
  ASSERT_TRUE(echoes(**client, "before"));
  // Each rebinding lands the client's datagrams on either socket; keep
  // rebinding until one landed on the worker that does not own it (each
  // try does with probability 1/2), talking after every one.
  std::uint64_t handed_over = 0;
  for (int rebinding = 1; rebinding <= 24 && handed_over == 0; ++rebinding) {
    nat.rebind();
    ASSERT_TRUE(echoes(**client, "after rebinding " + std::to_string(rebinding)));
    handed_over = stats_of(0).datagrams_from_workers + stats_of(1).datagrams_from_workers;
  }
  EXPECT_GT(handed_over, 0u) << "no rebinding reached the other worker's socket";
  // Every datagram forwarded is handed over. The two counts are taken on
  // two threads, and the client's last ACKs may still be in an inbox: wait
  // (bounded) until the owner has drained it.
  auto forwarded = [&] {
    return stats_of(0).datagrams_forwarded + stats_of(1).datagrams_forwarded;
  };
  auto received = [&] {
    return stats_of(0).datagrams_from_workers + stats_of(1).datagrams_from_workers;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (forwarded() != received() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(forwarded(), received());
  EXPECT_EQ(servers_[0]->established.load() + servers_[1]->established.load(), 1)
      << "the connection was kept, not replaced";
  EXPECT_TRUE(echoes(**client, "still here"));
}

TEST_F(ServerWorkersTest, TheConnectionCapHoldsAcrossWorkers) {
  Limits capped = limits();
  capped.max_connections = 3;
  start_workers(2, capped);
  std::vector<std::unique_ptr<Client>> clients;
  int refused = 0;
  for (int i = 0; i < 8; ++i) {
    auto client = Client::connect(servers_[0]->address(), pki_.device_tls(), limits());
    if (client) {
      clients.push_back(std::move(*client));
    } else {
      ++refused;
    }
  }
  EXPECT_EQ(clients.size(), 3u) << "the cap is the daemon's, not each worker's";
  EXPECT_EQ(refused, 5);
  EXPECT_EQ(workers_->connections(), 3u);
}

// SO_REUSEPORT shares the port among our workers only: another server,
// alone or with workers of its own, is refused it as before.
TEST_F(ServerWorkersTest, NoOtherServerSharesThePort) {
  start_workers(2);
  const std::string taken = servers_[0]->address().to_string();
  EchoServer alone(pki_.server_tls(), limits(), nullptr, taken);
  EXPECT_FALSE(alone.ok());
  auto others = ServerWorkers::create(2, limits()).value();
  EchoServer other_workers(pki_.server_tls(), limits(), nullptr, taken, ServerWorker{others, 0});
  EXPECT_FALSE(other_workers.ok());
  EXPECT_THAT(other_workers.bind_error(), ::testing::HasSubstr(taken));
}

}  // namespace
}  // namespace palyra::transport
