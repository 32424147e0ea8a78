#include "palyra/fallback/enrollment_channel.hpp"

#include <fmt/format.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "palyra/identity/ca_hash_check.hpp"

namespace palyra::fallback {
namespace {

class CaHashVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  CaHashVerifier(std::string ca_spki_sha256, std::string server_name,
                 std::shared_ptr<HandshakeRefusal> refusal)
      : ca_spki_sha256_(std::move(ca_spki_sha256)),
        server_name_(std::move(server_name)),
        refusal_(std::move(refusal)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)>, grpc::Status* sync_status) override {
    auto chain = request->peer_cert_full_chain();
    auto checked = identity::verify_chain_against_ca_hash(
        std::string_view(chain.data(), chain.size()), ca_spki_sha256_, server_name_);
    if (checked) {
      *sync_status = grpc::Status::OK;
    } else {
      *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, checked.error().message());
      if (refusal_) refusal_->set(std::move(checked).error());
    }
    return true;  // decided synchronously
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

 private:
  std::string ca_spki_sha256_;
  std::string server_name_;
  std::shared_ptr<HandshakeRefusal> refusal_;
};

}  // namespace

void HandshakeRefusal::set(Error error) {
  std::lock_guard lock(mutex_);
  error_ = std::move(error);
}

std::optional<Error> HandshakeRefusal::get() const {
  std::lock_guard lock(mutex_);
  return error_;
}

std::shared_ptr<grpc::ChannelCredentials> enrollment_channel_credentials(
    std::string ca_spki_sha256, std::string server_name,
    std::shared_ptr<HandshakeRefusal> refusal) {
  grpc::experimental::TlsChannelCredentialsOptions options;
  // gRPC's own chain check needs root certificates we do not have: ours
  // replaces it, and it also checks the server name.
  options.set_verify_server_certs(false);
  options.set_check_call_host(false);
  options.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<CaHashVerifier>(
          std::move(ca_spki_sha256), std::move(server_name), std::move(refusal)));
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace palyra::fallback
