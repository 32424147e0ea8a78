#include "palyra/fallback/enrollment_channel.hpp"

#include <fmt/format.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <array>
#include <cstring>
#include <span>
#include <vector>

#include "palyra/identity/fingerprint.hpp"

namespace palyra::fallback {
namespace {

// The certificates of one PEM chain, freed together.
class CertificateList {
 public:
  ~CertificateList() {
    for (unsigned i = 0; i < size_; ++i) gnutls_x509_crt_deinit(list_[i]);
    gnutls_free(list_);
  }
  bool import(std::string_view pem) {
    gnutls_datum_t datum{reinterpret_cast<unsigned char*>(const_cast<char*>(pem.data())),
                         static_cast<unsigned>(pem.size())};
    return gnutls_x509_crt_list_import2(&list_, &size_, &datum, GNUTLS_X509_FMT_PEM, 0) >= 0;
  }
  gnutls_x509_crt_t* data() const { return list_; }
  unsigned size() const { return size_; }

 private:
  gnutls_x509_crt_t* list_ = nullptr;
  unsigned size_ = 0;
};

std::optional<std::string> spki_sha256_of(gnutls_x509_crt_t certificate) {
  gnutls_pubkey_t key = nullptr;
  if (gnutls_pubkey_init(&key) != 0) return std::nullopt;
  std::optional<std::string> hash;
  gnutls_datum_t der{};
  if (gnutls_pubkey_import_x509(key, certificate, 0) == 0 &&
      gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &der) == 0) {
    hash = identity::sha256_fingerprint(std::span<const unsigned char>(der.data, der.size));
    gnutls_free(der.data);
  }
  gnutls_pubkey_deinit(key);
  return hash;
}

bool has_server_purpose(gnutls_x509_crt_t leaf) {
  for (unsigned i = 0;; ++i) {
    std::array<char, 128> oid{};
    std::size_t size = oid.size();
    if (gnutls_x509_crt_get_key_purpose_oid(leaf, i, oid.data(), &size, nullptr) < 0) return false;
    if (std::strcmp(oid.data(), GNUTLS_KP_TLS_WWW_SERVER) == 0) return true;
  }
}

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
    auto checked = verify_chain_against_ca_hash(std::string_view(chain.data(), chain.size()),
                                                ca_spki_sha256_, server_name_);
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

Status verify_chain_against_ca_hash(std::string_view chain_pem, std::string_view ca_spki_sha256,
                                    std::string_view server_name) {
  auto expected = identity::normalize_fingerprint(ca_spki_sha256);
  if (!expected) {
    return Error(Errc::TlsConfigurationFailed,
                 fmt::format("invalid CA hash: {}", expected.error().message()));
  }
  CertificateList chain;
  if (chain_pem.empty() || !chain.import(chain_pem) || chain.size() == 0) {
    return Error(Errc::CertificateParsingFailed, "the server's certificate chain is unreadable");
  }
  if (chain.size() < 2) {
    return Error(Errc::PinnedCertificateMismatch,
                 fmt::format("the server sent no CA certificate after its own, so nothing can be "
                             "checked against the token's CA hash {}",
                             *expected));
  }
  gnutls_x509_crt_t ca = chain.data()[chain.size() - 1];
  auto actual = spki_sha256_of(ca);
  if (!actual || *actual != *expected) {
    return Error(Errc::PinnedCertificateMismatch,
                 fmt::format("the server's CA public key has SHA-256 {}, the token names {}: this "
                             "is not the daemon the token was made for",
                             actual.value_or("(unreadable)"), *expected));
  }
  const std::string name(server_name);
  std::array<gnutls_typed_vdata_st, 2> checks{};
  checks[0].type = GNUTLS_DT_DNS_HOSTNAME;
  checks[0].data = reinterpret_cast<unsigned char*>(const_cast<char*>(name.c_str()));
  checks[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
  checks[1].data = reinterpret_cast<unsigned char*>(const_cast<char*>(GNUTLS_KP_TLS_WWW_SERVER));
  gnutls_x509_trust_list_t trust = nullptr;
  if (gnutls_x509_trust_list_init(&trust, 0) != 0) {
    return Error(Errc::ConnectFailed, "out of memory while checking the server's chain");
  }
  unsigned status = 0;
  int rv = gnutls_x509_trust_list_add_cas(trust, &ca, 1, 0);
  if (rv >= 0) {
    rv = gnutls_x509_trust_list_verify_crt2(trust, chain.data(), chain.size(), checks.data(),
                                            static_cast<unsigned>(checks.size()), 0, &status,
                                            nullptr);
  }
  gnutls_x509_trust_list_deinit(trust, 0);  // the chain owns the CA certificate
  if (rv < 0 || status != 0) {
    std::string why = "verification failed";
    gnutls_datum_t text{};
    if (rv >= 0 &&
        gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) == 0) {
      why.assign(reinterpret_cast<const char*>(text.data), text.size);
      gnutls_free(text.data);
    } else if (rv < 0) {
      why = gnutls_strerror(rv);
    }
    return Error(Errc::ConnectFailed,
                 fmt::format("the server's certificate does not verify against the CA with "
                             "SHA-256 {} for server name {}: {}",
                             *expected, name, why));
  }
  if (!has_server_purpose(chain.data()[0])) {
    return Error(Errc::ConnectFailed,
                 "the server's certificate is not valid for TLS server authentication "
                 "(no serverAuth key purpose)");
  }
  return {};
}

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
