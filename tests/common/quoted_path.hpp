// A path as the project's errors quote it: 'path'.
#pragma once

#include <filesystem>
#include <string>

namespace palyra::testing {

// Appended, not "'" + path.string(): gcc 12 at -O3 warns a false -Wrestrict
// in operator+(const char*, std::string&&) (GCC bug 105329).
inline std::string quoted(const std::filesystem::path& path) {
  std::string out = "'";
  out += path.string();
  out += '\'';
  return out;
}

}  // namespace palyra::testing
