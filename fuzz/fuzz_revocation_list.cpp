// Arbitrary bytes as revoked.txt: the parser must return normalized
// fingerprints or one line naming the file and the line, never crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "palyra/identity/fingerprint.hpp"
#include "palyra/identity/revocation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto list = palyra::identity::parse_revocation_list(text, "revoked.txt");
  if (!list) {
    const auto& message = list.error().message();
    if (!message.starts_with("revoked.txt:") || message.find('\n') != std::string::npos ||
        message.size() > 256) {
      std::fprintf(stderr, "bad error message: %s\n", message.c_str());
      std::abort();  // one short line naming the file and the line
    }
    return 0;
  }
  for (const auto& fingerprint : *list) {
    if (fingerprint.size() != palyra::identity::kFingerprintHexLength) std::abort();
    for (char c : fingerprint) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) std::abort();
    }
  }
  return 0;
}
