#include "listen_address.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "config_validation.hpp"

namespace palyra::daemon {
namespace {

bool is_listen_address(std::string_view value) {
  const auto colon = value.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view host = value.substr(0, colon);
  const std::string_view port = value.substr(colon + 1);
  // An IPv6 literal's colons need brackets, or the port is ambiguous.
  if (host.find(':') != std::string_view::npos &&
      (host.front() != '[' || host.back() != ']' || host.size() < 3)) {
    return false;
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  return std::stoul(std::string(port)) <= 65535;
}

}  // namespace

Status check_listen_address(std::string_view key, const std::string& value) {
  if (value.empty() || is_listen_address(value)) return {};
  return Error(Errc::ConfigInvalid,
               fmt::format("{}: '{}' is not HOST:PORT (e.g. 127.0.0.1:9744, [::1]:0), or empty "
                           "for off",
                           key, printable(value)));
}

}  // namespace palyra::daemon
