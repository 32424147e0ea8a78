// Whether a peer whose handshake completed is let in: see peer_admission.hpp.
#include "peer_admission.hpp"

#include <fmt/format.h>
#include <gnutls/gnutls.h>  // the TLS alert numbers only

#include "palyra/identity/revocation.hpp"

namespace palyra::transport {
namespace {

Admission refuse(Error error, gnutls_alert_description_t alert) {
  Admission admission;
  admission.refusal = std::move(error);
  admission.tls_alert = static_cast<std::uint8_t>(alert);
  return admission;
}

Admission admit(PeerIdentity peer) {
  Admission admission;
  admission.peer = std::move(peer);
  return admission;
}

}  // namespace

bool is_revoked(const identity::RevocationIndex* revocation, const std::string& fingerprint) {
  return revocation != nullptr && revocation->is_revoked(fingerprint);
}

Admission admit_client(const ClientPolicy& policy, bool enrolling, Result<PeerIdentity> identity) {
  // An enrolling node has no certificate yet; the application serves it
  // node.enroll only.
  if (enrolling) return admit({});
  if (!policy.require_client_auth) return admit(identity ? std::move(*identity) : PeerIdentity{});
  if (!identity) {
    return refuse(Error(Errc::MissingPeerIdentity, "the client presented no certificate"),
                  GNUTLS_A_CERTIFICATE_REQUIRED);
  }
  if (is_revoked(policy.revocation, identity->fingerprint)) {
    return refuse(Error(Errc::ConnectionClosed,
                        fmt::format("refused revoked client certificate {} (device '{}')",
                                    identity->fingerprint, identity->device_id)),
                  GNUTLS_A_CERTIFICATE_REVOKED);
  }
  return admit(std::move(*identity));
}

Admission admit_server(const std::optional<std::string>& pin, Result<PeerIdentity> identity) {
  if (!identity) return refuse(std::move(identity).error(), GNUTLS_A_BAD_CERTIFICATE);
  if (pin && *pin != identity->fingerprint) {
    return refuse(Error(Errc::PinnedCertificateMismatch,
                        fmt::format("server certificate pin mismatch: expected {}, actual {}", *pin,
                                    identity->fingerprint)),
                  GNUTLS_A_BAD_CERTIFICATE);
  }
  return admit(std::move(*identity));
}

}  // namespace palyra::transport
