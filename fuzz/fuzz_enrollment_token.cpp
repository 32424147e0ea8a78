// Arbitrary bytes as an enrollment token, both as `palyra enroll` takes it
// and as a node presents it in node.enroll: errors, never a crash, and a
// token that parses prints back to the same (trimmed) text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "palyra/identity/enrollment_token.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto token = palyra::identity::parse_enrollment_token(text);
  if (token) {
    auto again = palyra::identity::parse_enrollment_token(token->text());
    if (!again || again->text() != token->text()) std::abort();
  }
  auto presented = palyra::identity::parse_presented_token(text);
  if (presented && (presented->id.size() != 8 || presented->secret.size() != 32)) std::abort();
  return 0;
}
