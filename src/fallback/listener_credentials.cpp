// The gRPC listeners' TLS: certificate files, client certificate request and
// the handshake's authorisation (see listener_credentials.hpp).
#include "listener_credentials.hpp"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <spdlog/spdlog.h>

#include "palyra/identity/certificate.hpp"

namespace palyra::fallback {
namespace {

// The handshake's check point: runs after gRPC verified the client's chain
// against the gateway CA, and refuses what PeerAuthorizer refuses. The
// client sees only a failed handshake (UNAVAILABLE), so the reason goes to
// the daemon's log.
class AuthorizingVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit AuthorizingVerifier(std::shared_ptr<const PeerAuthorizer> authorizer)
      : authorizer_(std::move(authorizer)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)>, grpc::Status* sync_status) override {
    auto pem = request->peer_cert();
    auto authorized = authorizer_->authorize(std::string_view(pem.data(), pem.size()));
    if (const auto* refused = std::get_if<PeerRefusal>(&authorized)) {
      spdlog::warn("grpc connection refused reason=\"{}\"", log_reason(*refused));
      *sync_status = refusal_status(*refused);
    } else {
      *sync_status = grpc::Status::OK;
    }
    return true;  // decided synchronously
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

 private:
  static std::string log_reason(const PeerRefusal& refusal) {
    switch (refusal.reason) {
      case PeerRefusal::Reason::NoCertificate:
        return "no client certificate";
      case PeerRefusal::Reason::UnreadableCertificate:
        return "unreadable client certificate: " + refusal.detail;
      case PeerRefusal::Reason::Revoked:
        return "revoked client certificate " + refusal.detail;
    }
    return "unknown";
  }

  std::shared_ptr<const PeerAuthorizer> authorizer_;
};

}  // namespace

Result<ListenerCredentials> listener_credentials(const transport::ServerTlsConfig& tls,
                                                 std::shared_ptr<const PeerAuthorizer> authorizer) {
  if (auto ca = identity::Certificate::chain_from_pem_file(tls.ca_file); !ca) {
    return std::move(ca).error();
  }
  if (auto chain = identity::Certificate::chain_from_pem_file(tls.cert_chain_file); !chain) {
    return std::move(chain).error();
  }
  if (auto key = identity::PrivateKey::from_pem_file(tls.key_file); !key) {
    return std::move(key).error();
  }

  // Watches the three files: a certificate, key or CA bundle replaced on
  // disk (reissue, rotation) is used by new handshakes within
  // kTlsFilesRefreshSeconds, without a restart; connections keep theirs.
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.key_file.string(), tls.cert_chain_file.string(), tls.ca_file.string(),
      kTlsFilesRefreshSeconds);

  grpc::experimental::TlsServerCredentialsOptions node(provider);
  node.watch_root_certs();
  node.watch_identity_key_cert_pairs();
  node.set_cert_request_type(tls.require_client_auth
                                 ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                 : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (tls.require_client_auth) {
    node.set_certificate_verifier(
        grpc::experimental::ExternalCertificateVerifier::Create<AuthorizingVerifier>(
            std::move(authorizer)));
  }

  grpc::experimental::TlsServerCredentialsOptions enrollment(provider);
  enrollment.watch_identity_key_cert_pairs();
  enrollment.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);

  return ListenerCredentials{grpc::experimental::TlsServerCredentials(node),
                             grpc::experimental::TlsServerCredentials(enrollment)};
}

}  // namespace palyra::fallback
