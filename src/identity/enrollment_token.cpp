#include "palyra/identity/enrollment_token.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace palyra::identity {
namespace {

bool is_lower_hex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

// Checks one part; the message names it and its expected shape, and never
// quotes the input (it may hold the secret).
Status check_part(std::string_view part, std::string_view name, std::size_t length) {
  if (part.size() != length || !is_lower_hex(part)) {
    return Error(Errc::InvalidArgument,
                 fmt::format("the enrollment token's {} must be {} lowercase hex digits "
                             "(got {} characters{})",
                             name, length, part.size(),
                             is_lower_hex(part) ? "" : ", not all lowercase hex"));
  }
  return {};
}

// The parts between dots, or nothing when there are not exactly `count`.
std::optional<std::vector<std::string_view>> split_dots(std::string_view text, std::size_t count) {
  if (static_cast<std::size_t>(std::count(text.begin(), text.end(), '.')) + 1 != count) {
    return std::nullopt;
  }
  std::vector<std::string_view> parts;
  while (true) {
    auto dot = text.find('.');
    parts.push_back(text.substr(0, dot));
    if (dot == std::string_view::npos) return parts;
    text.remove_prefix(dot + 1);
  }
}

Error wrong_shape(std::string_view expected, std::string_view text) {
  return Error(Errc::InvalidArgument,
               fmt::format("an enrollment token has the form {}, this one has {} parts "
                           "separated by '.'",
                           expected, std::count(text.begin(), text.end(), '.') + 1));
}

}  // namespace

Result<EnrollmentToken> parse_enrollment_token(std::string_view text) {
  text = trim(text);
  auto parts = split_dots(text, 3);
  if (!parts) return wrong_shape("<id>.<secret>.<ca-hash>", text);
  PALYRA_TRY(check_part((*parts)[0], "id", kTokenIdHexLength));
  PALYRA_TRY(check_part((*parts)[1], "secret", kTokenSecretHexLength));
  PALYRA_TRY(check_part((*parts)[2], "ca-hash", kTokenCaHashHexLength));
  return EnrollmentToken{std::string((*parts)[0]), std::string((*parts)[1]),
                         std::string((*parts)[2])};
}

Result<PresentedToken> parse_presented_token(std::string_view text) {
  text = trim(text);
  auto parts = split_dots(text, 2);
  if (!parts) return wrong_shape("<id>.<secret>", text);
  PALYRA_TRY(check_part((*parts)[0], "id", kTokenIdHexLength));
  PALYRA_TRY(check_part((*parts)[1], "secret", kTokenSecretHexLength));
  return PresentedToken{std::string((*parts)[0]), std::string((*parts)[1])};
}

}  // namespace palyra::identity
