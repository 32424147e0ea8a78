// What the identity tests share: a scratch directory to put PEM files in,
// the external oracles (openssl, certtool) run through the shell, and a
// GnuTLS check that a certificate chains to a trust bundle.
#pragma once

#include <gnutls/x509.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "../common/temp_dir.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/state_dir.hpp"

namespace palyra::testing {

struct ShellResult {
  int status;
  std::string output;  // stdout and stderr together
};

// Runs `command` with the shell: how the tests ask openssl and certtool.
inline ShellResult run(const std::string& command) {
  std::array<char, 4096> buffer{};
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, {}};
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  int status = pclose(pipe);
  return {WEXITSTATUS(status), output};
}

// Verifies `leaf` for client authentication against every certificate of
// `bundle_pem` as trust anchors, now, the way the server's trust file is used.
inline bool chains_to(const identity::Certificate& leaf, const std::string& bundle_pem) {
  gnutls_x509_trust_list_t list = nullptr;
  gnutls_x509_trust_list_init(&list, 0);
  gnutls_datum_t cas{reinterpret_cast<unsigned char*>(const_cast<char*>(bundle_pem.data())),
                     static_cast<unsigned>(bundle_pem.size())};
  EXPECT_GT(gnutls_x509_trust_list_add_trust_mem(list, &cas, nullptr, GNUTLS_X509_FMT_PEM, 0, 0),
            0);
  gnutls_x509_crt_t crt = nullptr;
  gnutls_x509_crt_init(&crt);
  gnutls_datum_t der{reinterpret_cast<unsigned char*>(const_cast<char*>(leaf.der().data())),
                     static_cast<unsigned>(leaf.der().size())};
  EXPECT_EQ(gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER), 0);
  unsigned status = 1;
  gnutls_typed_vdata_st purpose{
      GNUTLS_DT_KEY_PURPOSE_OID,
      reinterpret_cast<unsigned char*>(const_cast<char*>(GNUTLS_KP_TLS_WWW_CLIENT)), 0};
  int rv = gnutls_x509_trust_list_verify_crt2(list, &crt, 1, &purpose, 1, 0, &status, nullptr);
  gnutls_x509_crt_deinit(crt);
  gnutls_x509_trust_list_deinit(list, 1);
  return rv == 0 && status == 0;
}

// A fresh directory per test; files are put there and a state directory
// lives under it.
class IdentityDirTest : public TempDirTest {
 protected:
  identity::StateDir state() const { return identity::StateDir{dir_ / "state"}; }
  std::filesystem::path put(const std::string& name, const std::string& contents) {
    auto path = dir_ / name;
    std::ofstream(path) << contents;
    return path;
  }
};

}  // namespace palyra::testing
