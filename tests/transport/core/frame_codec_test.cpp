#include "palyra/transport/frame_codec.hpp"

#include <gtest/gtest.h>

namespace palyra::transport {
namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string frame(std::string_view payload) {
  std::string out;
  EXPECT_TRUE(append_frame(out, payload).ok());
  return out;
}

TEST(FrameCodec, EncodesBigEndianLengthThenPayload) {
  std::string out = frame("abc");
  ASSERT_EQ(out.size(), 7u);
  EXPECT_EQ(out.substr(0, 4), std::string("\0\0\0\3", 4));
  EXPECT_EQ(out.substr(4), "abc");
  EXPECT_EQ(frame(""), std::string("\0\0\0\0", 4));
}

TEST(FrameCodec, DecodesEverySplitOfTwoFrames) {
  std::string wire = frame("hello") + frame("") + frame(std::string(300, 'z'));
  for (std::size_t split = 0; split <= wire.size(); ++split) {
    FrameDecoder decoder;
    std::deque<std::string> frames;
    ASSERT_TRUE(decoder.feed(bytes_of(wire.substr(0, split)), frames).ok());
    ASSERT_TRUE(decoder.feed(bytes_of(wire.substr(split)), frames).ok());
    ASSERT_EQ(frames.size(), 3u) << "split at " << split;
    EXPECT_EQ(frames[0], "hello");
    EXPECT_EQ(frames[1], "");
    EXPECT_EQ(frames[2], std::string(300, 'z'));
    EXPECT_TRUE(decoder.finish().ok());
  }
}

TEST(FrameCodec, ByteAtATime) {
  std::string wire;
  for (int i = 0; i < 50; ++i) wire += frame(std::to_string(i));
  FrameDecoder decoder;
  std::deque<std::string> frames;
  for (char c : wire) {
    std::string one(1, c);
    ASSERT_TRUE(decoder.feed(bytes_of(one), frames).ok());
  }
  ASSERT_EQ(frames.size(), 50u);
  EXPECT_EQ(frames[49], "49");
}

TEST(FrameCodec, MaximalFrameIsAccepted) {
  std::string payload(kDefaultMaxFrameBytes, 'm');
  FrameDecoder decoder;
  std::deque<std::string> frames;
  ASSERT_TRUE(decoder.feed(bytes_of(frame(payload)), frames).ok());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].size(), kDefaultMaxFrameBytes);
}

TEST(FrameCodec, OversizedHeaderIsRefusedBeforeAnyAllocation) {
  std::string header("\x00\x08\x00\x01", 4);  // 524289
  FrameDecoder decoder;
  std::deque<std::string> frames;
  auto status = decoder.feed(bytes_of(header), frames);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), Errc::FrameTooLarge);
  EXPECT_NE(status.error().message().find("524289"), std::string::npos);
  EXPECT_NE(status.error().message().find("524288"), std::string::npos);
  EXPECT_LE(decoder.buffered_bytes(), 4u);
  // It stays failed.
  EXPECT_TRUE(decoder.failed());
  EXPECT_EQ(decoder.feed(bytes_of(frame("x")), frames).error().code(), Errc::FrameTooLarge);
  EXPECT_TRUE(frames.empty());
}

TEST(FrameCodec, AnnouncedLengthDoesNotPinMemory) {
  std::string header("\x00\x08\x00\x00", 4);  // 524288, nothing else sent
  FrameDecoder decoder;
  std::deque<std::string> frames;
  ASSERT_TRUE(decoder.feed(bytes_of(header), frames).ok());
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameCodec, StreamEndingInsideAFrameIsAReadFailure) {
  FrameDecoder in_header;
  std::deque<std::string> frames;
  ASSERT_TRUE(in_header.feed(bytes_of(std::string("\0\0", 2)), frames).ok());
  auto header_status = in_header.finish();
  ASSERT_FALSE(header_status.ok());
  EXPECT_EQ(header_status.error().code(), Errc::FrameReadFailed);
  EXPECT_NE(header_status.error().message().find("2 of 4 length bytes"), std::string::npos);

  FrameDecoder in_payload;
  std::string partial = frame(std::string(100, 'p')).substr(0, 14);
  ASSERT_TRUE(in_payload.feed(bytes_of(partial), frames).ok());
  auto payload_status = in_payload.finish();
  ASSERT_FALSE(payload_status.ok());
  EXPECT_EQ(payload_status.error().code(), Errc::FrameReadFailed);
  EXPECT_NE(payload_status.error().message().find("10 of 100 payload bytes"), std::string::npos);
  EXPECT_TRUE(frames.empty());
}

TEST(FrameCodec, WriterRefusesOversizedPayloadAndLeavesOutputUntouched) {
  std::string out = "keep";
  auto status = append_frame(out, std::string(kDefaultMaxFrameBytes + 1, 'x'));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), Errc::FrameTooLarge);
  EXPECT_EQ(out, "keep");
}

}  // namespace
}  // namespace palyra::transport
