// A frame that never completes, for the tests of what a server holds for
// one: a length prefix announcing `announced` bytes, then only `sent` of
// them. Stream::write_framed takes bytes as they are, so written with it
// the frame stays incomplete on the wire.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace palyra::transport::testing {

inline std::string half_frame(std::size_t announced, std::size_t sent) {
  const auto n = static_cast<std::uint32_t>(announced);
  std::string bytes = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)};
  bytes.append(sent, 'h');
  return bytes;
}

}  // namespace palyra::transport::testing
