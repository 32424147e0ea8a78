// One node.* call over our QUIC client, as tests make it: the request frame
// on a new stream, then every response frame until the server's FIN.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "palyra/transport/io/client.hpp"
#include "palyra/transport/stream.hpp"

namespace palyra::transport::testing {

inline std::vector<std::string> call_frames(Client& client, const std::string& request) {
  using namespace std::chrono_literals;
  std::vector<std::string> frames;
  auto stream = client.open_stream(10s);
  EXPECT_TRUE(stream) << (stream ? "" : stream.error().describe());
  if (!stream) return frames;
  EXPECT_TRUE((*stream)->write_frame(request));
  (*stream)->finish();
  while (true) {
    auto frame = client.read_frame(**stream, 10s);
    EXPECT_TRUE(frame) << (frame ? "" : frame.error().describe());
    if (!frame || !frame->has_value()) break;
    frames.push_back(std::move(**frame));
  }
  return frames;
}

}  // namespace palyra::transport::testing
