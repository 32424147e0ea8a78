// A real palyrad in a throwaway state directory made by a real `palyra init`,
// and the ways tests talk to it: the palyra CLI, and raw frames over our
// QUIC client (for the protocol cases the CLI never sends).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../common/process.hpp"
#include "../common/temp_dir.hpp"
#include "../transport/call_frames.hpp"
#include "palyra/identity/state_dir.hpp"
#include "palyra/transport/connection.hpp"
#include "palyra/transport/io/client.hpp"
#include "palyra/transport/stream.hpp"

namespace palyra::e2e {

using namespace std::chrono_literals;

class DaemonTest : public palyra::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    state_ = identity::StateDir{dir_ / "state"};
    auto init = palyra({"init", "--state-dir", state_.root.string()}, false);
    ASSERT_EQ(init.status, 0) << init.err;
  }
  void TearDown() override {
    daemon_.reset();
    TempDirTest::TearDown();
  }

  // Starts palyrad on a free port; returns false (with the log) if it did not
  // print its listening line.
  ::testing::AssertionResult start_daemon(std::vector<std::string> extra = {},
                                          std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv = {PALYRAD_BINARY,
                                     "--state-dir",
                                     state_.root.string(),
                                     "--quic-port",
                                     port_ == 0 ? "0" : std::to_string(port_),
                                     "--grpc-port",
                                     grpc_port_ == 0 ? "0" : std::to_string(grpc_port_),
                                     "--grpc-enroll-port",
                                     "0",
                                     "--log-level",
                                     "debug"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    daemon_ = std::make_unique<palyra::testing::ChildProcess>(argv, daemon_log(), env);
    std::string line = daemon_->read_line(10s);
    auto at = line.find("quic=");
    if (!line.starts_with("palyrad listening ") || at == std::string::npos) {
      daemon_->wait(2s);
      return ::testing::AssertionFailure() << "palyrad did not start: '" << line << "'\n" << log();
    }
    address_ = line.substr(at + 5, line.find(' ', at) - at - 5);
    if (address_ != "off") {
      port_ = static_cast<std::uint16_t>(std::stoi(address_.substr(address_.rfind(':') + 1)));
    }
    auto grpc_at = line.find("grpc=");
    if (grpc_at != std::string::npos) {
      grpc_address_ = line.substr(grpc_at + 5, line.find(' ', grpc_at) - grpc_at - 5);
      if (grpc_address_ != "off") {
        grpc_port_ = static_cast<std::uint16_t>(
            std::stoi(grpc_address_.substr(grpc_address_.rfind(':') + 1)));
      }
    }
    auto enroll_at = line.find("grpc_enroll=");
    if (enroll_at != std::string::npos) {
      grpc_enroll_address_ =
          line.substr(enroll_at + 12, line.find(' ', enroll_at) - enroll_at - 12);
    }
    auto metrics_at = line.find(" metrics=");
    if (metrics_at != std::string::npos) {
      metrics_address_ =
          line.substr(metrics_at + 9, line.find(' ', metrics_at + 1) - metrics_at - 9);
    }
    return ::testing::AssertionSuccess();
  }
  // SIGTERM and the exit code.
  int stop_daemon(int sig = SIGTERM) {
    daemon_->signal(sig);
    int code = daemon_->wait(10s);
    daemon_.reset();
    return code;
  }
  std::filesystem::path daemon_log() const { return dir_ / "palyrad.log"; }
  std::string log() const {
    auto text = palyra::testing::run_command({"/bin/cat", daemon_log().string()}, dir_);
    return text.out;
  }
  // The log once it holds `text`, or as it is after `timeout`: the daemon
  // logs a refused handshake after the client may already have exited.
  std::string log_with(const std::string& text, std::chrono::milliseconds timeout = 5s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string current = log();
    while (current.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
      current = log();
    }
    return current;
  }

  // The palyra CLI; with `connect`, pointed at our daemon and state dir.
  palyra::testing::CommandResult palyra(std::vector<std::string> args, bool connect = true) {
    std::vector<std::string> argv = {PALYRA_CLI_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    if (connect) {
      argv.insert(argv.end(), {"--state-dir", state_.root.string(), "--connect", address_});
    }
    return palyra::testing::run_command(argv, dir_);
  }

  palyra::testing::CommandResult run(std::vector<std::string> argv) {
    return palyra::testing::run_command(std::move(argv), dir_);
  }

  transport::ClientTlsConfig device_tls(const std::string& device = "node-1") const {
    transport::ClientTlsConfig tls;
    tls.ca_file = state_.ca_cert();
    tls.cert_file = state_.device_cert(device);
    tls.key_file = state_.device_key(device);
    tls.server_name = "127.0.0.1";
    return tls;
  }
  transport::SocketAddress address() const {
    return std::move(transport::SocketAddress::parse(address_)).value();
  }
  Result<std::unique_ptr<transport::Client>> connect(const transport::ClientTlsConfig& tls) const {
    return transport::Client::connect(address(), tls);
  }
  std::unique_ptr<transport::Client> connect_device(const std::string& device = "node-1") const {
    auto client = connect(device_tls(device));
    EXPECT_TRUE(client) << (client ? "" : client.error().describe());
    return client ? std::move(*client) : nullptr;
  }

  // One request as raw bytes on a new stream; every response frame until FIN.
  static std::vector<std::string> call(transport::Client& client, const std::string& request) {
    return transport::testing::call_frames(client, request);
  }

  identity::StateDir state_;
  std::unique_ptr<palyra::testing::ChildProcess> daemon_;
  std::string address_;
  std::uint16_t port_ = 0;    // kept across restarts
  std::string grpc_address_;  // "127.0.0.1:PORT" or "off"
  std::uint16_t grpc_port_ = 0;
  std::string grpc_enroll_address_;  // the gRPC enrollment listener, "127.0.0.1:PORT" or "off"
  std::string metrics_address_;      // the /metrics listener, "127.0.0.1:PORT" or "off"
};

}  // namespace palyra::e2e
