// Arbitrary bytes as the CSR of a node.enroll request: CertificateRequest
// must refuse anything that is not a self-signed ECDSA P-256 or Ed25519
// PKCS#10 with an error, never crash or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "palyra/identity/csr.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto request = palyra::identity::CertificateRequest::from_pem(text);
  if (request) (void)request->public_key_sha256();
  return 0;
}
