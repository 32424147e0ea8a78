// Arbitrary bytes as a PEM certificate chain and as a PEM private key: the
// loaders must return errors, never crash or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "palyra/identity/certificate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto certificate = palyra::identity::Certificate::from_pem(text, "fuzz input");
  if (certificate) {
    (void)certificate->fingerprint();
    (void)certificate->device_id();
  }
  (void)palyra::identity::PrivateKey::from_pem(text, "fuzz input");
  return 0;
}
