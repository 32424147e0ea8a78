// palyrad with several QUIC workers (gateway.workers; ARCHITECTURE.md,
// Workers): clients from many source ports spread over the workers, a
// client whose NAT rebinds keeps its connection when its datagrams land on
// another worker's socket, and revocation and SIGTERM reach the
// connections of every worker.
#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "../transport/io/udp_nat.hpp"
#include "daemon_fixture.hpp"
#include "palyra/runtime/protocol.hpp"
#include "prometheus_scrape.hpp"

namespace palyra::e2e {
namespace {

using ::testing::HasSubstr;

constexpr int kWorkers = 2;
// Clients, each on a source port of its own: all on one of two workers
// would happen once in 2^15 runs.
constexpr int kClients = 16;

class WorkersTest : public DaemonTest {
 protected:
  ::testing::AssertionResult start_workers() {
    return start_daemon({"--workers", std::to_string(kWorkers), "--metrics-listen", "127.0.0.1:0"});
  }
  Scrape scrape() const {
    auto body = http_get_metrics(metrics_address_);
    EXPECT_TRUE(body) << (body ? "" : body.error().describe());
    auto parsed = Scrape::parse(body ? *body : "");
    EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().describe());
    return parsed ? std::move(*parsed) : Scrape{};
  }
  static double worker_connections(const Scrape& s, int worker) {
    return s.value("palyra_quic_worker_connections{worker=\"" + std::to_string(worker) + "\"}")
        .value_or(-1);
  }
  // kClients connections of `device`, each answering node.health.
  std::vector<std::unique_ptr<transport::Client>> connect_many(const std::string& device) {
    std::vector<std::unique_ptr<transport::Client>> clients;
    for (int i = 0; i < kClients; ++i) {
      auto client = connect_device(device);
      if (!client) break;
      EXPECT_EQ(call(*client, runtime::encode_health_request()),
                std::vector<std::string>{runtime::encode_health(true)});
      clients.push_back(std::move(client));
    }
    return clients;
  }
  // Every worker holds some of the connections.
  void expect_every_worker_has_some(std::size_t total) const {
    const Scrape s = scrape();
    double sum = 0;
    for (int worker = 0; worker < kWorkers; ++worker) {
      EXPECT_GT(worker_connections(s, worker), 0) << "worker " << worker;
      sum += worker_connections(s, worker);
    }
    EXPECT_EQ(sum, static_cast<double>(total));
  }
};

TEST_F(WorkersTest, ClientsFromManySourcePortsAreServedByEveryWorker) {
  ASSERT_TRUE(start_workers());
  auto clients = connect_many("node-1");
  ASSERT_EQ(clients.size(), static_cast<std::size_t>(kClients));
  expect_every_worker_has_some(kClients);
  const Scrape s = scrape();
  EXPECT_EQ(s.value("palyra_quic_connections{state=\"established\"}"), kClients)
      << "the daemon's figures sum the workers'";
  EXPECT_THAT(log(), HasSubstr("QUIC workers: 2"));
}

TEST_F(WorkersTest, ARebindingClientKeepsItsConnectionWhenItLandsOnAnotherWorker) {
  ASSERT_TRUE(start_workers());
  transport::testing::UdpNat nat(address());
  auto client = transport::Client::connect(nat.front_address(), device_tls());
  ASSERT_TRUE(client) << client.error().describe();
  const auto health = std::vector<std::string>{runtime::encode_health(true)};
  ASSERT_EQ(call(**client, runtime::encode_health_request()), health);
  // Each rebinding lands on either worker's socket: rebind until one landed
  // on the worker that does not own the connection (1/2 per try), calling
  // after every one.
  double forwarded = 0;
  for (int rebinding = 1; rebinding <= 24 && forwarded == 0; ++rebinding) {
    nat.rebind();
    ASSERT_EQ(call(**client, runtime::encode_health_request()), health)
        << "after rebinding " << rebinding;
    forwarded = scrape().counter("palyra_quic_datagrams_forwarded_total{result=\"forwarded\"}");
  }
  EXPECT_GT(forwarded, 0) << "no rebinding reached the other worker's socket";
  EXPECT_EQ(scrape().counter("palyra_quic_handshakes_total{result=\"ok\"}"), 1)
      << "the one connection was kept, never replaced";
}

TEST_F(WorkersTest, RevocationClosesTheDevicesConnectionsOnEveryWorker) {
  ASSERT_EQ(palyra({"cert", "device", "--state-dir", state_.root.string(), "node-2"}, false).status,
            0);
  ASSERT_TRUE(start_workers());
  auto victims = connect_many("node-2");
  ASSERT_EQ(victims.size(), static_cast<std::size_t>(kClients));
  auto bystander = connect_device("node-1");
  ASSERT_TRUE(bystander);
  expect_every_worker_has_some(kClients + 1);
  auto revoke =
      palyra({"cert", "revoke", "--state-dir", state_.root.string(), "--device", "node-2"}, false);
  ASSERT_EQ(revoke.status, 0) << revoke.err;
  daemon_->signal(SIGHUP);
  for (auto& victim : victims) {
    auto closed = victim->run_until([] { return false; }, 5s);
    ASSERT_FALSE(closed);
    EXPECT_THAT(closed.error().message(), HasSubstr("0x11"));
  }
  EXPECT_EQ(call(*bystander, runtime::encode_health_request()),
            std::vector<std::string>{runtime::encode_health(true)});
  EXPECT_THAT(log(), HasSubstr(std::to_string(kClients) + " live connection(s)/call(s) closed"));
}

TEST_F(WorkersTest, SigtermDrainsEveryWorkerAndExitsZero) {
  ASSERT_TRUE(start_workers());
  auto clients = connect_many("node-1");
  ASSERT_EQ(clients.size(), static_cast<std::size_t>(kClients));
  expect_every_worker_has_some(kClients);
  daemon_->signal(SIGTERM);
  for (auto& client : clients) {
    auto closed = client->run_until([] { return false; }, 5s);
    ASSERT_FALSE(closed);
    EXPECT_THAT(closed.error().message(), HasSubstr("0x10"));
  }
  EXPECT_EQ(daemon_->wait(10s), 0);
  EXPECT_THAT(log(), HasSubstr("closing " + std::to_string(kClients) + " QUIC connection(s)"));
}

}  // namespace
}  // namespace palyra::e2e
