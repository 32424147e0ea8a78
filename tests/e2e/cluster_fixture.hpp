// Two palyrad gateways over one replicated JetStream stream, as
// docs/OPERATIONS.md "Cluster mode" sets them up: a 3-node NATS cluster on
// loopback (real nats-server processes), gateway A's state directory made by
// `palyra init`, gateway B's holding a copy of A's CA and its own server
// certificate issued with `palyra cert server`, both with
// journal.nats_replicas = 3. Clients use A's state directory (its CA and
// the device node-1). Skips when there is no nats-server.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../common/process.hpp"
#include "../common/shared_ca.hpp"
#include "../common/temp_dir.hpp"
#include "../journal/nats_fixture.hpp"
#include "../journal/nats_stream_info.hpp"
#include "palyra/identity/state_dir.hpp"
#include "palyra/runtime/protocol.hpp"
#include "palyra/transport/io/client.hpp"
#include "palyra/transport/stream.hpp"

namespace palyra::e2e {

using namespace std::chrono_literals;

// One palyrad of the cluster: its state directory, its process, where it listens.
struct ClusterGateway {
  identity::StateDir state;
  std::filesystem::path log;
  std::unique_ptr<palyra::testing::ChildProcess> process;
  std::string address;  // "127.0.0.1:PORT" of its QUIC listener
  std::string metrics;  // "127.0.0.1:PORT" of /metrics
};

class ClusterTest : public palyra::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (std::string(PALYRA_NATS_SERVER).empty()) GTEST_SKIP() << "no nats-server on this machine";
    gateways_[0].state = identity::StateDir{dir_ / "gateway-a"};
    gateways_[1].state = identity::StateDir{dir_ / "gateway-b"};
    const auto& a = gateways_[0].state;
    const auto& b = gateways_[1].state;
    auto init = cli({"init", "--state-dir", a.root.string()});
    ASSERT_EQ(init.status, 0) << init.err;
    // B: A's CA (certificate and key, so B can issue), its own server certificate.
    palyra::testing::copy_ca(a, b);
    auto issued = cli({"cert", "server", "--state-dir", b.root.string(), "--name", "localhost",
                       "--ip", "127.0.0.1"});
    ASSERT_EQ(issued.status, 0) << issued.err;

    cluster_ = std::make_unique<palyra::testing::NatsCluster>(PALYRA_NATS_SERVER, dir_ / "nats");
    ASSERT_TRUE(cluster_->up()) << "a nats-server node did not start; see " << dir_;
    for (std::size_t i = 0; i < 2; ++i) ASSERT_TRUE(start_gateway(i));
  }
  void TearDown() override {
    for (auto& gateway : gateways_) gateway.process.reset();  // before the cluster they use
    cluster_.reset();
    TempDirTest::TearDown();
  }

  // Starts gateway i on free ports. The cluster elects its JetStream leader
  // a few seconds after it is up, and palyrad exits when it cannot create the
  // stream: retried, bounded.
  ::testing::AssertionResult start_gateway(std::size_t i) {
    ClusterGateway& g = gateways_[i];
    g.log = dir_ / ("palyrad-" + std::to_string(i) + ".log");
    std::string urls;
    for (const auto& url : cluster_->urls()) urls += (urls.empty() ? "" : ",") + url;
    const std::vector<std::string> argv = {PALYRAD_BINARY,
                                           "--state-dir",
                                           g.state.root.string(),
                                           "--quic-port",
                                           "0",
                                           "--grpc-port",
                                           "0",
                                           "--grpc-enroll-port",
                                           "0",
                                           "--metrics-listen",
                                           "127.0.0.1:0",
                                           "--journal-backend",
                                           "jetstream",
                                           "--journal-nats-urls",
                                           urls};
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    std::string line;
    while (std::chrono::steady_clock::now() < deadline) {
      g.process = std::make_unique<palyra::testing::ChildProcess>(
          argv, g.log, std::map<std::string, std::string>{{"PALYRA_JOURNAL_NATS_REPLICAS", "3"}});
      line = g.process->read_line(10s);
      if (line.starts_with("palyrad listening ")) {
        g.address = field(line, "quic=");
        g.metrics = field(line, "metrics=");
        return ::testing::AssertionSuccess();
      }
      g.process->wait(2s);
      std::this_thread::sleep_for(250ms);
    }
    return ::testing::AssertionFailure() << "gateway " << i << " did not start: '" << line << "'\n"
                                         << read_text(g.log);
  }
  // kill -9: no CONNECTION_CLOSE, no stateless reset; the port stays silent.
  void kill_gateway(std::size_t i) {
    gateways_[i].process->signal(SIGKILL);
    gateways_[i].process->wait(5s);
    gateways_[i].process.reset();
  }

  // The palyra CLI as node-1 of A's state directory, aimed at `connect`.
  palyra::testing::CommandResult palyra(std::vector<std::string> args, const std::string& connect) {
    args.insert(args.end(),
                {"--state-dir", gateways_[0].state.root.string(), "--connect", connect});
    return cli(std::move(args));
  }
  palyra::testing::CommandResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), PALYRA_CLI_BINARY);
    return palyra::testing::run_command(std::move(args), dir_);
  }
  // `palyra events --follow --json` running in the background.
  std::unique_ptr<palyra::testing::ChildProcess> follower(const std::string& connect,
                                                          const std::string& name) {
    return std::make_unique<palyra::testing::ChildProcess>(
        std::vector<std::string>{PALYRA_CLI_BINARY, "events", "--follow", "--json", "--state-dir",
                                 gateways_[0].state.root.string(), "--connect", connect},
        dir_ / (name + ".stderr"));
  }
  std::string both() const { return gateways_[0].address + "," + gateways_[1].address; }

  // node-1's identity for our own QUIC client.
  transport::ClientTlsConfig device_tls() const {
    transport::ClientTlsConfig tls;
    const auto& a = gateways_[0].state;
    tls.ca_file = a.ca_cert();
    tls.cert_file = a.device_cert("node-1");
    tls.key_file = a.device_key("node-1");
    tls.server_name = "127.0.0.1";
    return tls;
  }
  Result<std::unique_ptr<transport::Client>> connect(std::size_t gateway) const {
    auto address = transport::SocketAddress::parse(gateways_[gateway].address);
    if (!address) return std::move(address).error();
    return transport::Client::connect(*address, device_tls());
  }
  // One node.publish_event; its seq, or why there is none (the connection's
  // error, or the daemon's error frame as StorageFailed).
  static Result<std::uint64_t> publish(transport::Client& client, const std::string& name,
                                       const std::string& payload,
                                       const std::optional<std::string>& id) {
    auto stream = client.open_stream(10s);
    if (!stream) return std::move(stream).error();
    if (auto written = (*stream)->write_frame(runtime::encode_publish_request(name, payload, id));
        !written) {
      return std::move(written).error();
    }
    (*stream)->finish();
    auto frame = client.read_frame(**stream, 10s);
    if (!frame) return std::move(frame).error();
    if (!*frame) return Error(Errc::ConnectionClosed, "the stream ended without an answer");
    auto response = runtime::parse_response(**frame);
    if (!response || !response->ok || !response->seq) {
      return Error(Errc::StorageFailed, "publish answered: " + **frame);
    }
    return *response->seq;
  }

  // The index (0..2) of the node leading the events stream.
  std::optional<std::size_t> stream_leader() const {
    return palyra::testing::stream_leader(cluster_->urls(), "PALYRA_EVENTS");
  }

  static std::string field(const std::string& line, const std::string& key) {
    const auto at = line.find(key);
    if (at == std::string::npos) return {};
    const auto start = at + key.size();
    return line.substr(start, line.find(' ', start) - start);
  }
  std::string read_text(const std::filesystem::path& file) {
    return palyra::testing::run_command({"/bin/cat", file.string()}, dir_).out;
  }
  // Gateway i's log once it holds `text`, or as it is after `timeout`.
  std::string log_with(std::size_t i, const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string current = read_text(gateways_[i].log);
    while (current.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(100ms);
      current = read_text(gateways_[i].log);
    }
    return current;
  }

  std::unique_ptr<palyra::testing::NatsCluster> cluster_;
  ClusterGateway gateways_[2];
};

}  // namespace palyra::e2e
