// GnuTLS certificate credentials from PEM files: see tls_credentials.hpp.
#include "tls_credentials.hpp"

#include <fmt/format.h>
#include <gnutls/x509.h>

namespace palyra::transport {
namespace {

struct LoadedFile {
  gnutls_datum_t datum{nullptr, 0};
  ~LoadedFile() { gnutls_free(datum.data); }
};

Status load_file(const std::filesystem::path& path, Errc code, std::string_view what,
                 LoadedFile& out) {
  int rv = gnutls_load_file(path.c_str(), &out.datum);
  if (rv < 0) {
    std::error_code ec;
    bool exists = std::filesystem::exists(path, ec);
    return Error(code, fmt::format("cannot read {} '{}': {}", what, path.string(),
                                   exists ? gnutls_strerror(rv) : "no such file"));
  }
  return {};
}

// Checks that a PEM file holds at least one certificate, so errors name the
// file and the problem instead of a generic credentials failure.
Status check_certificates(const std::filesystem::path& path, std::string_view what) {
  LoadedFile file;
  PALYRA_TRY(load_file(path, Errc::CertificateParsingFailed, what, file));
  gnutls_x509_crt_t* list = nullptr;
  unsigned count = 0;
  int rv = gnutls_x509_crt_list_import2(&list, &count, &file.datum, GNUTLS_X509_FMT_PEM, 0);
  if (rv < 0 || count == 0) {
    return Error(Errc::CertificateParsingFailed,
                 fmt::format("{} '{}' holds no valid PEM certificate: {}", what, path.string(),
                             rv < 0 ? gnutls_strerror(rv) : "empty"));
  }
  for (unsigned i = 0; i < count; ++i) gnutls_x509_crt_deinit(list[i]);
  gnutls_free(list);
  return {};
}

Status check_private_key(const std::filesystem::path& path) {
  LoadedFile file;
  PALYRA_TRY(load_file(path, Errc::PrivateKeyParsingFailed, "private key", file));
  gnutls_x509_privkey_t key = nullptr;
  gnutls_x509_privkey_init(&key);
  int rv = gnutls_x509_privkey_import2(key, &file.datum, GNUTLS_X509_FMT_PEM, nullptr, 0);
  gnutls_x509_privkey_deinit(key);
  if (rv < 0) {
    // Never echo the file's content: it is key material.
    return Error(Errc::PrivateKeyParsingFailed,
                 fmt::format("private key '{}' is not a valid PEM key: {}", path.string(),
                             gnutls_strerror(rv)));
  }
  return {};
}

}  // namespace

Status set_key_pair(gnutls_certificate_credentials_t credentials, const std::filesystem::path& cert,
                    const std::filesystem::path& key, std::string_view what) {
  PALYRA_TRY(check_certificates(cert, what));
  PALYRA_TRY(check_private_key(key));
  int rv = gnutls_certificate_set_x509_key_file2(credentials, cert.c_str(), key.c_str(),
                                                 GNUTLS_X509_FMT_PEM, nullptr, 0);
  if (rv < 0) {
    return Error(Errc::TlsConfigurationFailed,
                 fmt::format("cannot use {} '{}' with key '{}': {}", what, cert.string(),
                             key.string(), gnutls_strerror(rv)));
  }
  return {};
}

Status set_trust(gnutls_certificate_credentials_t credentials, const std::filesystem::path& ca) {
  PALYRA_TRY(check_certificates(ca, "CA certificate"));
  int rv = gnutls_certificate_set_x509_trust_file(credentials, ca.c_str(), GNUTLS_X509_FMT_PEM);
  if (rv <= 0) {
    return Error(Errc::CertificateParsingFailed,
                 fmt::format("CA file '{}' gave no trust anchor: {}", ca.string(),
                             rv < 0 ? gnutls_strerror(rv) : "no certificates"));
  }
  return {};
}

}  // namespace palyra::transport
