#include "palyra/identity/state_dir.hpp"

#include <cstdlib>

namespace palyra::identity {

std::filesystem::path default_state_dir() {
  if (const char* explicit_dir = std::getenv("PALYRA_STATE_DIR"); explicit_dir && *explicit_dir) {
    return explicit_dir;
  }
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) {
    return std::filesystem::path(xdg) / "palyra";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".local" / "state" / "palyra";
}

StateDir state_dir_or_default(const std::string& option) {
  return StateDir{option.empty() ? default_state_dir() : std::filesystem::path(option)};
}

}  // namespace palyra::identity
