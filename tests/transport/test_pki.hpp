// A throwaway gateway CA per test, made with Palyra's own identity library:
// a server certificate for localhost/127.0.0.1/::1, a device certificate,
// all with keys of one type (P-256 unless asked), and helpers to mint
// certificates a peer must refuse.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/ca.hpp"
#include "palyra/identity/revocation.hpp"
#include "palyra/transport/tls_config.hpp"

namespace palyra::transport::testing {

class TestPki {
 public:
  struct Pair {
    std::filesystem::path cert;
    std::filesystem::path key;
    std::string fingerprint;
  };

  explicit TestPki(identity::KeyType key_type = identity::kDefaultKeyType) {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("palyra-pki-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    ca_ = std::make_unique<identity::CertificateAuthority>(
        std::move(identity::CertificateAuthority::create("Palyra Test CA",
                                                         identity::kDefaultCaValidity, key_type))
            .value());
    write("ca.pem", ca_->certificate().pem());
    auto server = std::move(ca_->issue_server({"localhost", {}, {"127.0.0.1", "::1"}})).value();
    server_fingerprint_ = server.certificate.fingerprint();
    write("server.pem", server.certificate.pem());
    write("server-chain.pem", server.certificate.pem() + ca_->certificate().pem());
    write("server.key", server.key.pem(), 0600);
    device_ = save("device", std::move(ca_->issue_device(device_id())).value());
  }
  ~TestPki() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path ca_cert() const { return dir_ / "ca.pem"; }
  std::filesystem::path server_chain() const { return dir_ / "server-chain.pem"; }
  std::filesystem::path server_key() const { return dir_ / "server.key"; }
  std::filesystem::path device_cert() const { return device_.cert; }
  std::filesystem::path device_key() const { return device_.key; }
  std::filesystem::path revocation_file() const { return dir_ / "revoked.txt"; }
  std::string device_id() const { return "test-node"; }
  const std::string& device_fingerprint() const { return device_.fingerprint; }
  // The server's and the device's TLS configurations, as most tests want
  // them: client certificates required, no pin, no server secret.
  ServerTlsConfig server_tls() const {
    return {ca_cert(), server_chain(), server_key(), true, nullptr};
  }
  ClientTlsConfig device_tls() const {
    ClientTlsConfig tls;
    tls.ca_file = ca_cert();
    tls.cert_file = device_cert();
    tls.key_file = device_key();
    return tls;
  }
  const std::string& server_fingerprint() const { return server_fingerprint_; }
  const identity::CertificateAuthority& ca() const { return *ca_; }

  // A device certificate valid from now+from to now+to, with a key of
  // `key_type` (nullopt: the CA's).
  Pair issue_device(const std::string& id, std::chrono::seconds from, std::chrono::seconds to,
                    bool client_auth = true,
                    std::optional<identity::KeyType> key_type = std::nullopt) {
    identity::IssueRequest request;
    request.key_type = key_type;
    request.common_name = "Palyra Device " + id;
    request.organization = "Palyra";
    if (client_auth) request.purposes = {identity::KeyPurpose::ClientAuth};
    auto now = std::chrono::system_clock::now();
    request.not_before = now + from;
    request.not_after = now + to;
    return save(id, std::move(ca_->issue(request)).value());
  }

  Pair issue_server(const std::string& name, std::chrono::seconds from, std::chrono::seconds to,
                    bool server_auth = true) {
    identity::IssueRequest request;
    request.common_name = name;
    request.dns_names = {name};
    request.ip_addresses = {"127.0.0.1"};
    if (server_auth) request.purposes = {identity::KeyPurpose::ServerAuth};
    auto now = std::chrono::system_clock::now();
    request.not_before = now + from;
    request.not_after = now + to;
    auto issued = std::move(ca_->issue(request)).value();
    Pair pair = save("server-" + name + std::to_string(serial_++), std::move(issued));
    return pair;
  }

  void revoke(const std::string& fingerprint) {
    auto index = std::move(identity::RevocationIndex::load(revocation_file())).value();
    (void)index->add({fingerprint});
  }

 private:
  void write(const std::string& name, const std::string& contents, mode_t mode = 0644) {
    (void)write_file_atomically(dir_ / name, contents, mode);
  }
  Pair save(const std::string& name, identity::IssuedCertificate issued) {
    write(name + ".pem", issued.certificate.pem());
    write(name + ".key", issued.key.pem(), 0600);
    return {dir_ / (name + ".pem"), dir_ / (name + ".key"), issued.certificate.fingerprint()};
  }

  std::filesystem::path dir_;
  std::unique_ptr<identity::CertificateAuthority> ca_;
  std::string server_fingerprint_;
  Pair device_;
  int serial_ = 0;
};

}  // namespace palyra::transport::testing
