// Two palyrad gateways in cluster mode for end-to-end tests: one nats-server
// on loopback, gateway A in a state directory made by `palyra init`, gateway
// B in one holding a copy of A's CA files and a server certificate the CLI
// issued there (how an operator sets up a second gateway: docs/OPERATIONS.md,
// "Cluster mode"). Both on the JetStream journal and the shared buckets.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "../common/process.hpp"
#include "../common/shared_ca.hpp"
#include "../common/temp_dir.hpp"
#include "../journal/nats_fixture.hpp"
#include "palyra/identity/state_dir.hpp"
#include "palyra/transport/io/client.hpp"

namespace palyra::e2e {

using namespace std::chrono_literals;

// One palyrad process and where it listens.
struct Gateway {
  identity::StateDir state;
  std::filesystem::path log_file;
  std::unique_ptr<palyra::testing::ChildProcess> process;
  std::string address;  // QUIC, "127.0.0.1:PORT"

  std::string log() const {
    return palyra::testing::run_command({"/bin/cat", log_file.string()}, log_file.parent_path())
        .out;
  }
  // The log once it holds `text`, or as it is after `timeout`.
  std::string log_with(const std::string& text, std::chrono::milliseconds timeout = 5s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string current = log();
    while (current.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
      current = log();
    }
    return current;
  }
  transport::SocketAddress socket_address() const {
    return std::move(transport::SocketAddress::parse(address)).value();
  }
};

class GatewayPairTest : public palyra::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (std::string(PALYRA_NATS_SERVER).empty()) GTEST_SKIP() << "no nats-server on this machine";
    nats_ = std::make_unique<palyra::testing::NatsServer>(PALYRA_NATS_SERVER, dir_ / "nats");
    ASSERT_FALSE(nats_->url().empty()) << "nats-server did not start";
    a_.state = identity::StateDir{dir_ / "gateway-a"};
    b_.state = identity::StateDir{dir_ / "gateway-b"};
    a_.log_file = dir_ / "gateway-a.log";
    b_.log_file = dir_ / "gateway-b.log";
    auto init = palyra({"init", "--state-dir", a_.state.root.string()});
    ASSERT_EQ(init.status, 0) << init.err;
    palyra::testing::copy_ca(a_.state, b_.state);
    auto server = palyra({"cert", "server", "--state-dir", b_.state.root.string(), "--name",
                          "localhost", "--ip", "127.0.0.1"});
    ASSERT_EQ(server.status, 0) << server.err;
  }
  void TearDown() override {
    stop(a_);
    stop(b_);
    nats_.reset();  // the gateways first: they hold connections
    TempDirTest::TearDown();
  }

  // Starts the gateway in cluster mode on free ports; false (with its log)
  // if it did not print its listening line.
  ::testing::AssertionResult start(Gateway& gateway) {
    std::vector<std::string> argv = {PALYRAD_BINARY,
                                     "--state-dir",
                                     gateway.state.root.string(),
                                     "--quic-port",
                                     "0",
                                     "--grpc-port",
                                     "0",
                                     "--grpc-enroll-port",
                                     "0",
                                     "--journal-backend",
                                     "jetstream",
                                     "--journal-nats-urls",
                                     nats_->url(),
                                     "--log-level",
                                     "debug"};
    gateway.process = std::make_unique<palyra::testing::ChildProcess>(argv, gateway.log_file);
    const std::string line = gateway.process->read_line(15s);
    const auto at = line.find("quic=");
    if (!line.starts_with("palyrad listening ") || at == std::string::npos) {
      gateway.process->wait(2s);
      return ::testing::AssertionFailure() << "palyrad did not start: '" << line << "'\n"
                                           << gateway.log();
    }
    gateway.address = line.substr(at + 5, line.find(' ', at) - at - 5);
    return ::testing::AssertionSuccess();
  }
  static void stop(Gateway& gateway) {
    if (!gateway.process) return;
    gateway.process->signal(SIGTERM);
    gateway.process->wait(10s);
    gateway.process.reset();
  }

  palyra::testing::CommandResult palyra(std::vector<std::string> args) {
    args.insert(args.begin(), PALYRA_CLI_BINARY);
    return palyra::testing::run_command(std::move(args), dir_);
  }

  // A device of gateway A's state directory (the CA both gateways share).
  transport::ClientTlsConfig device_tls(const std::string& device = "node-1") const {
    transport::ClientTlsConfig tls;
    tls.ca_file = a_.state.ca_cert();
    tls.cert_file = a_.state.device_cert(device);
    tls.key_file = a_.state.device_key(device);
    tls.server_name = "127.0.0.1";
    return tls;
  }

  std::unique_ptr<palyra::testing::NatsServer> nats_;
  Gateway a_;
  Gateway b_;
};

}  // namespace palyra::e2e
