// Who may use the node port: the one decision for a client certificate,
// made in the TLS handshake (ServerCredentials' certificate verifier) and
// again on every call (NodeTransportService), so the two can never disagree.
// The handshake refuses a revoked certificate before a connection exists;
// the per-call check refuses calls on a connection that was opened before
// the revocation index was reloaded. Both map the same refusal to their own
// outcome: a failed handshake (the client sees UNAVAILABLE) or a call
// finished UNAUTHENTICATED with refusal_status().
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace grpc {
class Status;
}
namespace palyra::identity {
class RevocationIndex;
}

namespace palyra::fallback {

// A caller let in. Both empty: no client certificate, allowed only when
// client certificates are not required (the enrollment port's Enroll, or
// insecure mode).
struct AuthorizedPeer {
  std::string fingerprint;
  std::string device_id;
};

// Why a caller is refused, with what a log line needs.
struct PeerRefusal {
  enum class Reason {
    NoCertificate,          // none presented where one is required
    UnreadableCertificate,  // presented, but not a certificate we can read
    Revoked,                // its fingerprint is in the revocation index
  };
  Reason reason;
  // NoCertificate: empty. UnreadableCertificate: the parse error.
  // Revoked: "<fingerprint> (device '<id>')".
  std::string detail;
};

using PeerAuthorization = std::variant<AuthorizedPeer, PeerRefusal>;

class PeerAuthorizer {
 public:
  // `revocation` may be null (nothing is revoked); it is read at each
  // authorize(), so a reloaded index applies at once.
  PeerAuthorizer(std::shared_ptr<const identity::RevocationIndex> revocation,
                 bool require_client_certificate);

  // `client_certificate_pem` is the peer's leaf certificate as gRPC gives it
  // (PEM); empty when the peer presented none. The chain was verified
  // against the gateway CA by gRPC before either check point runs.
  PeerAuthorization authorize(std::string_view client_certificate_pem) const;

 private:
  std::shared_ptr<const identity::RevocationIndex> revocation_;
  bool require_client_certificate_;
};

// The status a refused call ends with: UNAUTHENTICATED, with "a client
// certificate is required", "client certificate revoked" or the parse
// error. The handshake reports the same status to gRPC.
grpc::Status refusal_status(const PeerRefusal& refusal);

}  // namespace palyra::fallback
