// The node port's authorisation decision (see peer_authorization.hpp).
#include "peer_authorization.hpp"

#include <fmt/format.h>
#include <grpcpp/support/status.h>

#include "palyra/identity/certificate.hpp"
#include "palyra/identity/revocation.hpp"

namespace palyra::fallback {

PeerAuthorizer::PeerAuthorizer(std::shared_ptr<const identity::RevocationIndex> revocation,
                               bool require_client_certificate)
    : revocation_(std::move(revocation)), require_client_certificate_(require_client_certificate) {}

PeerAuthorization PeerAuthorizer::authorize(std::string_view client_certificate_pem) const {
  if (client_certificate_pem.empty()) {
    if (require_client_certificate_) return PeerRefusal{PeerRefusal::Reason::NoCertificate, ""};
    return AuthorizedPeer{};
  }
  auto certificate =
      identity::Certificate::from_pem(client_certificate_pem, "gRPC client certificate");
  if (!certificate) {
    return PeerRefusal{PeerRefusal::Reason::UnreadableCertificate, certificate.error().describe()};
  }
  std::string fingerprint = certificate->fingerprint();
  if (revocation_ && revocation_->is_revoked(fingerprint)) {
    return PeerRefusal{PeerRefusal::Reason::Revoked,
                       fmt::format("{} (device '{}')", fingerprint, certificate->device_id())};
  }
  return AuthorizedPeer{std::move(fingerprint), certificate->device_id()};
}

grpc::Status refusal_status(const PeerRefusal& refusal) {
  switch (refusal.reason) {
    case PeerRefusal::Reason::NoCertificate:
      return {grpc::StatusCode::UNAUTHENTICATED, "a client certificate is required"};
    case PeerRefusal::Reason::UnreadableCertificate:
      return {grpc::StatusCode::UNAUTHENTICATED, refusal.detail};
    case PeerRefusal::Reason::Revoked:
      return {grpc::StatusCode::UNAUTHENTICATED, "client certificate revoked"};
  }
  return {grpc::StatusCode::INTERNAL, "unknown refusal"};
}

}  // namespace palyra::fallback
