// Whether a peer whose handshake completed is let in: the checks PROTOCOL.md
// §2 makes after GnuTLS and our verify function have passed the chain —
// a client certificate where one is required, revocation, the server pin.
// Pure: no ngtcp2 and no TLS session, only the identity the certificate
// gave, so every outcome is tested on its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "palyra/common/result.hpp"
#include "palyra/transport/connection.hpp"

namespace palyra::identity {
class RevocationIndex;
}

namespace palyra::transport {

struct Admission {
  // Admitted: who the peer is (empty fields for a client that needed no
  // certificate, or an enrolling one).
  PeerIdentity peer;
  // Refused: why, and the TLS alert our CONNECTION_CLOSE carries.
  std::optional<Error> refusal;
  std::uint8_t tls_alert = 0;

  bool admitted() const noexcept { return !refusal; }
};

// What a server demands of its clients.
struct ClientPolicy {
  // false only for the explicit insecure opt-out.
  bool require_client_auth = true;
  // Checked on every handshake; none: nothing is revoked.
  const identity::RevocationIndex* revocation = nullptr;
};

// Server side. `enrolling`: the client chose the enrollment ALPN and was not
// asked for a certificate (PROTOCOL.md §7). MissingPeerIdentity
// (certificate_required) without a certificate where one is required;
// ConnectionClosed (certificate_revoked) for a revoked one.
Admission admit_client(const ClientPolicy& policy, bool enrolling, Result<PeerIdentity> identity);

// Client side: the chain, name and purpose are checked by then; the pin is
// compared on every handshake. The identity's own error
// (bad_certificate) without a certificate; PinnedCertificateMismatch
// (bad_certificate) naming both fingerprints.
Admission admit_server(const std::optional<std::string>& pin, Result<PeerIdentity> identity);

// Whether `fingerprint` is in `revocation` (none: nothing is revoked).
bool is_revoked(const identity::RevocationIndex* revocation, const std::string& fingerprint);

}  // namespace palyra::transport
