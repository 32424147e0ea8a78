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
using CrtHandle = std::unique_ptr<gnutls_x509_crt_int, CrtDeleter>;
using X509KeyHandle = std::unique_ptr<gnutls_x509_privkey_int, X509KeyDeleter>;
using PrivKeyHandle = std::unique_ptr<gnutls_privkey_st, PrivKeyDeleter>;

// Owns a buffer GnuTLS allocated.
struct Datum {
  gnutls_datum_t value{nullptr, 0};
  ~Datum() { gnutls_free(value.data); }
  std::string str() const { return std::string(reinterpret_cast<const char*>(value.data), value.size); }
};

inline gnutls_datum_t view(const std::string& s) {
  return {reinterpret_cast<unsigned char*>(const_cast<char*>(s.data())),
          static_cast<unsigned>(s.size())};
}

CrtHandle import_crt_der(const std::string& der);
X509KeyHandle import_key_pem(const std::string& pem);

}  // namespace palyra::identity::detail
