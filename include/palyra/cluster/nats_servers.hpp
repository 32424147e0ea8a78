// Where a gateway finds its NATS JetStream cluster, and how it proves
// itself there: the servers' urls and, optionally, TLS with a client
// certificate (journal.nats_tls_* settings). The journal and the
// key-value buckets connect with the same settings.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace palyra::cluster {

struct NatsTls {
  // The CA the servers' certificates are checked against. Empty: plain TCP
  // (no TLS at all), unless a client certificate is given.
  std::filesystem::path ca_file;
  // The gateway's client certificate (PEM, the leaf first) and its key, for
  // servers that require one (tls { verify: true }). Both or neither.
  std::filesystem::path cert_file;
  std::filesystem::path key_file;

  bool enabled() const noexcept { return !ca_file.empty() || !cert_file.empty(); }
};

struct NatsServers {
  std::vector<std::string> urls;  // nats://host:port (tls://host:port works too)
  NatsTls tls;
  // How long connecting and each request (a get, an update) may take.
  std::chrono::milliseconds request_timeout{5000};
};

}  // namespace palyra::cluster
