// TLS to NATS with client certificates: a nats-server that requires them
// (tls { verify: true }), its certificate and the gateway's client
// certificate issued by our own CLI from the gateway CA. The journal and the
// shared state connect through it; without a client certificate, or
// without TLS, the server refuses the connection.
#include <gtest/gtest.h>

#include <future>
#include <string>

#include "../common/process.hpp"
#include "../common/shared_ca.hpp"
#include "../common/temp_dir.hpp"
#include "../journal/nats_fixture.hpp"
#include "palyra/cluster/shared_state.hpp"
#include "palyra/journal/journal.hpp"

namespace palyra::cluster {
namespace {

using namespace std::chrono_literals;

class NatsTlsTest : public palyra::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (std::string(PALYRA_NATS_SERVER).empty()) GTEST_SKIP() << "no nats-server on this machine";
    gateway_ = identity::StateDir{dir_ / "gateway-a"};
    nats_pki_ = identity::StateDir{dir_ / "nats-pki"};
  }
  void TearDown() override {
    server_.reset();
    TempDirTest::TearDown();
  }

  palyra::testing::CommandResult palyra(std::vector<std::string> args) {
    args.insert(args.begin(), PALYRA_CLI);
    return palyra::testing::run_command(std::move(args), dir_);
  }

  // The gateway's state directory (`palyra init`), a second one holding a
  // copy of its CA that issues the NATS server's certificate, and a client
  // certificate for the gateway; then the server, requiring client
  // certificates from that CA.
  void start_tls_server(const std::string& key_type) {
    std::vector<std::string> init = {"init", "--state-dir", gateway_.root.string()};
    if (!key_type.empty()) init.insert(init.end(), {"--key-type", key_type});
    auto made = palyra(init);
    ASSERT_EQ(made.status, 0) << made.err;
    palyra::testing::copy_ca(gateway_, nats_pki_);
    auto server_cert = palyra({"cert", "server", "--state-dir", nats_pki_.root.string(), "--name",
                               "localhost", "--ip", "127.0.0.1"});
    ASSERT_EQ(server_cert.status, 0) << server_cert.err;
    auto client_cert = palyra({"cert", "device", "gateway-a", "--state-dir", gateway_.root.string(),
                               "--out", client_dir().string()});
    ASSERT_EQ(client_cert.status, 0) << client_cert.err;
    server_ = std::make_unique<palyra::testing::NatsServer>(
        PALYRA_NATS_SERVER, dir_ / "nats",
        palyra::testing::NatsServer::tls_args(
            dir_ / "nats", {nats_pki_.server_chain(), nats_pki_.server_key(), gateway_.ca_cert()}));
    ASSERT_FALSE(server_->url().empty())
        << "nats-server did not start; see " << server_->stderr_log();
  }

  std::filesystem::path client_dir() const { return dir_ / "gateway-a-nats"; }
  NatsServers servers(NatsTls tls) const { return NatsServers{{server_->url()}, std::move(tls)}; }
  NatsTls full_tls() const {
    return {gateway_.ca_cert(), client_dir() / "device.pem", client_dir() / "device.key"};
  }

  // `plain`: the server's url as nats:// rather than tls://, so the client
  // does not start TLS on its own.
  Result<std::shared_ptr<SharedState>> open_state(NatsTls tls, bool plain = false) const {
    SharedStateOptions options;
    options.servers = servers(std::move(tls));
    if (plain)
      options.servers.urls = {"nats://" + server_->url().substr(server_->url().find(':') + 3)};
    options.servers.request_timeout = 3s;
    options.create_with_replicas = 1;
    return SharedState::open(options);
  }

  identity::StateDir gateway_;   // the gateway's state directory
  identity::StateDir nats_pki_;  // a copy of its CA, for the NATS server's certificate
  std::unique_ptr<palyra::testing::NatsServer> server_;
};

void expect_refused(const Result<std::shared_ptr<SharedState>>& opened, const char* why) {
  ASSERT_FALSE(opened.ok()) << why << ": the server let it in";
  EXPECT_EQ(opened.error().code(), Errc::StorageFailed) << opened.error().describe();
}

TEST_F(NatsTlsTest, TheJournalAndTheSharedStateConnectWithTheGatewaysClientCertificate) {
  ASSERT_NO_FATAL_FAILURE(start_tls_server(""));
  auto state = open_state(full_tls());
  ASSERT_TRUE(state.ok()) << state.error().describe();
  ASSERT_TRUE((*state)->publish_revocations({std::string(64, 'a')}, 1).ok());

  journal::JetStreamBackend backend;
  backend.urls = {server_->url()};
  backend.tls = full_tls();
  auto journal = journal::open_journal(backend);
  ASSERT_TRUE(journal.ok()) << journal.error().describe();
  std::promise<Result<std::uint64_t>> stored;
  ASSERT_TRUE((*journal)
                  ->append({"over.tls", "1", "node-1"},
                           [&](Result<std::uint64_t> seq) { stored.set_value(std::move(seq)); })
                  .ok());
  auto answer = stored.get_future();
  ASSERT_EQ(answer.wait_for(10s), std::future_status::ready);
  auto seq = answer.get();
  ASSERT_TRUE(seq.ok()) << seq.error().describe();
  EXPECT_EQ(*seq, 1u);
}

TEST_F(NatsTlsTest, WithoutAClientCertificateOrWithoutTlsTheServerRefuses) {
  ASSERT_NO_FATAL_FAILURE(start_tls_server(""));
  expect_refused(open_state({gateway_.ca_cert(), {}, {}}), "TLS without a client certificate");
  expect_refused(open_state({}, /*plain=*/true), "plain TCP");
  // A client certificate from another CA: the server does not know it.
  const identity::StateDir stranger{dir_ / "stranger"};
  ASSERT_EQ(palyra({"init", "--state-dir", stranger.root.string()}).status, 0);
  expect_refused(open_state({gateway_.ca_cert(), stranger.device_cert("node-1"),
                             stranger.device_key("node-1")}),
                 "a client certificate of another CA");
  EXPECT_TRUE(open_state(full_tls()).ok()) << "and yet the right one gets in";
}

TEST_F(NatsTlsTest, AMissingCertificateFileIsAnErrorNamingIt) {
  ASSERT_NO_FATAL_FAILURE(start_tls_server(""));
  auto tls = full_tls();
  tls.cert_file = dir_ / "no-such.pem";
  auto opened = open_state(tls);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message().find("no-such.pem"), std::string::npos)
      << opened.error().describe();
}

// nats-server 2.9 (Go's TLS) and the C client (OpenSSL) both take Ed25519
// certificates: a gateway CA of either key type serves NATS as well.
TEST_F(NatsTlsTest, Ed25519CertificatesWorkToo) {
  ASSERT_NO_FATAL_FAILURE(start_tls_server("ed25519"));
  auto state = open_state(full_tls());
  EXPECT_TRUE(state.ok()) << state.error().describe() << "\n" << server_->stderr_log();
  expect_refused(open_state({gateway_.ca_cert(), {}, {}}), "TLS without a client certificate");
}

}  // namespace
}  // namespace palyra::cluster
