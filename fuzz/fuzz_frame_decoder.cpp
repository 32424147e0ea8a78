// Arbitrary bytes into the frame decoder, split at a data-chosen point,
// with a small maximum so the FrameTooLarge path is reached often.
#include <cstddef>
#include <cstdint>

#include "palyra/transport/frame_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t max = 1 + data[0] * 64;  // 1 .. 16321 bytes
  std::span<const std::uint8_t> input(data + 1, size - 1);
  std::size_t split = input.empty() ? 0 : data[0] % (input.size() + 1);
  palyra::transport::FrameDecoder decoder(max);
  std::deque<std::string> frames;
  auto first = decoder.feed(input.subspan(0, split), frames);
  auto second = decoder.feed(input.subspan(split), frames);
  (void)decoder.finish();
  for (const auto& f : frames) {
    if (f.size() > max) __builtin_trap();  // never deliver an oversized frame
  }
  if (!first.ok() && second.ok()) __builtin_trap();  // a failed decoder stays failed
  return 0;
}
