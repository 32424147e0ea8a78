// A real nats-server with JetStream for the JetStream journal's tests: on a
// loopback port the server picks itself (it writes the port to a file), with
// its own store directory, stopped at teardown with SIGTERM and then, if it
// has not exited within a few seconds, SIGKILL. Every wait is bounded.
#pragma once

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../common/process.hpp"

namespace palyra::testing {

// A server's TLS: its certificate chain and key, and the CA that client
// certificates must chain to (tls { verify: true }: a client without one is
// refused).
struct NatsTlsFiles {
  std::filesystem::path cert_chain;
  std::filesystem::path key;
  std::filesystem::path client_ca;
};

class NatsServer {
 public:
  // The extra_args that make a server require TLS with client certificates:
  // a config file written into `dir`.
  static std::vector<std::string> tls_args(const std::filesystem::path& dir,
                                           const NatsTlsFiles& files) {
    std::filesystem::create_directories(dir);
    const auto config = dir / "tls.conf";
    std::ofstream(config) << "tls {\n  cert_file: \"" << files.cert_chain.string()
                          << "\"\n  key_file: \"" << files.key.string() << "\"\n  ca_file: \""
                          << files.client_ca.string() << "\"\n  verify: true\n  timeout: 5\n}\n";
    return {"-c", config.string()};
  }

  // Starts `binary` with JetStream, its files under `dir`; url() is empty if
  // it did not come up within `timeout` (the reason is in stderr_log()).
  // `extra_args` come last (a cluster node's -c CONFIG).
  NatsServer(const std::filesystem::path& binary, const std::filesystem::path& dir,
             const std::vector<std::string>& extra_args = {},
             std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : dir_(dir) {
    std::filesystem::create_directories(dir_ / "store");
    // -p -1: a free port of the server's choosing, so parallel tests never
    // collide; --ports_file_dir tells us which.
    std::vector<std::string> argv{binary.string(),
                                  "-js",
                                  "-a",
                                  "127.0.0.1",
                                  "-p",
                                  "-1",
                                  "-sd",
                                  (dir_ / "store").string(),
                                  "--ports_file_dir",
                                  dir_.string()};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    child_ = std::make_unique<ChildProcess>(std::move(argv), stderr_log());
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (port_ == 0) port_ = read_port();
      if (port_ != 0 && accepts(port_)) {
        url_ = scheme_ + fmt::format("://127.0.0.1:{}", port_);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~NatsServer() { stop(); }
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  const std::string& url() const { return url_; }
  // The client port; 0 until known. A server started again on it (extra
  // args {"-p", PORT}: the last -p wins) with the same directory has the same
  // url and store: a restart, as the clients see it.
  int port() const { return port_; }
  std::filesystem::path stderr_log() const { return dir_ / "nats-server.log"; }

  // kill -9: no goodbye to the cluster or to its clients. Idempotent.
  void kill() {
    if (!child_) return;
    child_->signal(SIGKILL);
    child_->wait(std::chrono::seconds(5));
    child_.reset();
    url_.clear();
  }
  // Any other signal (SIGSTOP, SIGCONT: a node frozen with its connections open).
  void signal(int sig) const {
    if (child_) child_->signal(sig);
  }

  // SIGTERM, then SIGKILL after 5 s. Idempotent.
  void stop() {
    if (!child_) return;
    child_->signal(SIGTERM);
    child_->wait(std::chrono::seconds(5));  // kills it if it is still running
    child_.reset();
    url_.clear();
  }

 private:
  // The port from nats-server_<pid>.ports ({"nats":["nats://127.0.0.1:P"]},
  // "tls://" when the server requires TLS).
  int read_port() {
    std::ifstream in(dir_ / (fmt::format("nats-server_{}.ports", child_->pid())));
    if (!in) return 0;
    std::stringstream text;
    text << in.rdbuf();
    std::smatch match;
    const std::string body = text.str();
    if (!std::regex_search(body, match, std::regex(R"((nats|tls)://127\.0\.0\.1:(\d+))"))) return 0;
    scheme_ = match[1].str();
    return std::stoi(match[2].str());
  }

  static bool accepts(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  std::filesystem::path dir_;
  std::unique_ptr<ChildProcess> child_;
  int port_ = 0;
  std::string scheme_ = "nats";
  std::string url_;
};

// Three nodes of one JetStream cluster on loopback, each a NatsServer with
// its own server_name and store, routes naming all three. Client ports are
// the servers' choice; cluster ports are picked free beforehand (they must be
// known to write the routes). JetStream elects its metadata leader a few
// seconds after all three are up: callers retry until a stream can be added.
class NatsCluster {
 public:
  NatsCluster(const std::filesystem::path& binary, const std::filesystem::path& dir)
      : binary_(binary) {
    std::array<int, 3> cluster_ports{};
    for (auto& port : cluster_ports) port = free_port();
    std::string routes;
    for (const int port : cluster_ports)
      routes += (routes.empty() ? "" : ", ") + (fmt::format("nats-route://127.0.0.1:{}", port));
    for (std::size_t i = 0; i < cluster_ports.size(); ++i) {
      const auto node_dir = dir / (fmt::format("n{}", i + 1));
      std::filesystem::create_directories(node_dir);
      const auto config = node_dir / "node.conf";
      std::ofstream(config) << "server_name: n" << i + 1 << "\n"
                            << "cluster {\n  name: palyra-test\n  listen: \"127.0.0.1:"
                            << cluster_ports[i] << "\"\n  routes: [" << routes << "]\n}\n";
      node_dirs_.push_back(node_dir);
      nodes_.push_back(
          std::make_unique<NatsServer>(binary, node_dir, std::vector<std::string>{"-c", config}));
    }
  }
  // Starts node i again (after its kill()) on its store and cluster port;
  // its client port is a new one. False if it did not start.
  bool restart(std::size_t i) {
    nodes_.at(i) = std::make_unique<NatsServer>(
        binary_, node_dirs_.at(i),
        std::vector<std::string>{"-c", (node_dirs_.at(i) / "node.conf").string()});
    return !nodes_[i]->url().empty();
  }

  bool up() const {
    for (const auto& node : nodes_)
      if (node->url().empty()) return false;
    return true;
  }
  NatsServer& node(std::size_t i) { return *nodes_.at(i); }
  std::vector<std::string> urls() const {
    std::vector<std::string> out;
    for (const auto& node : nodes_) out.push_back(node->url());
    return out;
  }

 private:
  std::filesystem::path binary_;
  std::vector<std::filesystem::path> node_dirs_;
  // A port nothing listens on now (the kernel's choice for a bound socket).
  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = 0;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      port = ntohs(addr.sin_port);
    if (fd >= 0) ::close(fd);
    return port;
  }

  std::vector<std::unique_ptr<NatsServer>> nodes_;
};

}  // namespace palyra::testing
