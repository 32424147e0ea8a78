// RAII owners for the GnuTLS X.509 objects the identity code uses.
#pragma once

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <memory>
#include <string>

namespace palyra::identity::detail {

struct CrtDeleter {
  void operator()(gnutls_x509_crt_int* p) const noexcept { gnutls_x509_crt_deinit(p); }
};
struct X509KeyDeleter {
  void operator()(gnutls_x509_privkey_int* p) const noexcept { gnutls_x509_privkey_deinit(p); }
};
struct PrivKeyDeleter {
  void operator()(gnutls_privkey_st* p) const noexcept { gnutls_privkey_deinit(p); }
};
struct PubKeyDeleter {
  void operator()(gnutls_pubkey_st* p) const noexcept { gnutls_pubkey_deinit(p); }
};
struct CrqDeleter {
  void operator()(gnutls_x509_crq_int* p) const noexcept { gnutls_x509_crq_deinit(p); }
};
using CrtHandle = std::unique_ptr<gnutls_x509_crt_int, CrtDeleter>;
using PubKeyHandle = std::unique_ptr<gnutls_pubkey_st, PubKeyDeleter>;
using CrqHandle = std::unique_ptr<gnutls_x509_crq_int, CrqDeleter>;
using X509KeyHandle = std::unique_ptr<gnutls_x509_privkey_int, X509KeyDeleter>;
using PrivKeyHandle = std::unique_ptr<gnutls_privkey_st, PrivKeyDeleter>;

// Owns a buffer GnuTLS allocated.
struct Datum {
  gnutls_datum_t value{nullptr, 0};
  ~Datum() { gnutls_free(value.data); }
  std::string str() const {
    return std::string(reinterpret_cast<const char*>(value.data), value.size);
  }
};

inline gnutls_datum_t view(const std::string& s) {
  return {reinterpret_cast<unsigned char*>(const_cast<char*>(s.data())),
          static_cast<unsigned>(s.size())};
}

CrtHandle import_crt_der(const std::string& der);
X509KeyHandle import_key_pem(const std::string& pem);
// A SubjectPublicKeyInfo (DER) as GnuTLS's public key; null if malformed.
PubKeyHandle import_pubkey_der(const std::string& der);
// The SubjectPublicKeyInfo DER of a key; empty on failure.
std::string export_pubkey_der(gnutls_pubkey_t key);

}  // namespace palyra::identity::detail
