// TLS configuration of the two ends (PROTOCOL.md §2). Files are PEM.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "palyra/common/clock.hpp"
#include "palyra/transport/server_secret.hpp"

namespace palyra::identity {
class RevocationIndex;
}

namespace palyra::transport {

struct ServerTlsConfig {
  std::filesystem::path ca_file;          // the gateway CA client certificates must chain to
  std::filesystem::path cert_chain_file;  // server leaf first, then intermediates/CA
  std::filesystem::path key_file;
  // false only for the explicit insecure opt-out: no client certificate is requested.
  bool require_client_auth = true;
  // Checked in every handshake; may be reloaded by another thread.
  std::shared_ptr<const identity::RevocationIndex> revocation;
  // Also offer the enrollment ALPN (kEnrollAlpn): a client choosing it is not
  // asked for a certificate, and the application sees Connection::alpn().
  bool serve_enrollment = false;
  // The time client certificates are judged by where Palyra judges it (the
  // verified-chain cache). GnuTLS's own validity checks read the
  // process-wide time (gnutls_global_set_time_function), which is this
  // clock's only when it is the system clock or a test installed it there.
  std::shared_ptr<const palyra::Clock> clock = system_clock();
  // The endpoint's long-term secret (PROTOCOL.md §8), key material beside
  // the TLS key: stateless reset tokens and Retry tokens are derived from it.
  // The daemon keeps it in its state directory so both survive a restart;
  // without one the server makes a fresh secret for its lifetime.
  std::optional<ServerSecret> secret;
};

struct ClientTlsConfig {
  std::filesystem::path ca_file;  // trust anchor for the server's chain
  // Both or neither (ClientIdentityIncomplete otherwise).
  std::optional<std::filesystem::path> cert_file;
  std::optional<std::filesystem::path> key_file;
  std::string server_name = "localhost";  // checked against the server's SANs
  // Lowercase hex SHA-256 of the server leaf's DER; compared after trimming,
  // case-insensitively. Present but empty is TlsConfigurationFailed.
  std::optional<std::string> pinned_sha256;
  // The one ALPN offered. Palyra servers refuse anything but palyra-quic-v1
  // (no_application_protocol); other values exist for protocol tests. Empty
  // sends a ClientHello without any ALPN extension (tests of that refusal).
  std::string alpn = "palyra-quic-v1";
  // Enrollment (PROTOCOL.md §7): instead of ca_file, trust the CA the server
  // sends at the end of its chain if and only if the SHA-256 of its
  // SubjectPublicKeyInfo is this (lowercase hex, from the token). Checked in
  // the handshake, before any application data is sent.
  std::optional<std::string> ca_spki_sha256;
  // The time the server's certificate is judged by; as ServerTlsConfig::clock.
  std::shared_ptr<const palyra::Clock> clock = system_clock();
};

}  // namespace palyra::transport
