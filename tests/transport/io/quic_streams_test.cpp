// QUIC on loopback: the handshake, streams and frames, frame limits, loss.
#include "quic_fixture.hpp"

namespace palyra::transport {
namespace {

TEST_F(QuicTest, MutualTlsHandshakeAndEcho) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok()) << server.bind_error();
  auto client = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok()) << client.error().describe();
  EXPECT_EQ(echo(**client, R"({"protocol_version":1,"method":"node.health"})"),
            R"({"protocol_version":1,"method":"node.health"})");
  EXPECT_EQ(server.device_ids(), std::vector<std::string>{pki_.device_id()});
  EXPECT_EQ((*client)->connection().peer().fingerprint, pki_.server_fingerprint());
}

TEST_F(QuicTest, Ipv6Loopback) {
  EchoServer server(server_tls(), quick_limits(), nullptr, "[::1]:0");
  ASSERT_TRUE(server.ok()) << server.bind_error();
  EXPECT_EQ(server.address().family(), AF_INET6);
  auto client = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok()) << client.error().describe();
  EXPECT_EQ(echo(**client, "over ::1"), "over ::1");
  EXPECT_EQ(server.address().to_string().substr(0, 5), "[::1]");
}

TEST_F(QuicTest, ManySequentialStreamsAndEmptyFrames) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok()) << client.error().describe();
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(echo(**client, "request " + std::to_string(i)), "request " + std::to_string(i));
  }
  EXPECT_EQ(echo(**client, ""), "");
  EXPECT_EQ(server.frames_received.load(), 201);
}

TEST_F(QuicTest, ManySmallFramesOnOneStream) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok());
  auto stream = (*client)->open_stream();
  ASSERT_TRUE(stream.ok());
  constexpr int kFrames = 5000;
  for (int i = 0; i < kFrames; ++i) ASSERT_TRUE((*stream)->write_frame(std::to_string(i)).ok());
  (*stream)->finish();
  for (int i = 0; i < kFrames; ++i) {
    auto frame = (*client)->read_frame(**stream, 10s);
    ASSERT_TRUE(frame.ok() && frame->has_value()) << "frame " << i;
    ASSERT_EQ(**frame, std::to_string(i));
  }
  auto end = (*client)->read_frame(**stream, 10s);
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
}

TEST_F(QuicTest, MaximalFramesBothWays) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok());
  std::string big(524288, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>('a' + i % 26);
  EXPECT_EQ(echo(**client, big), big);
}

TEST_F(QuicTest, ConcurrentStreamsBeyondTheLimitWaitInsteadOfFailing) {
  Limits limits = quick_limits();
  EchoServer server(server_tls(), limits);
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), client_tls(), limits);
  ASSERT_TRUE(client.ok());
  std::vector<Stream*> open;
  for (int i = 0; i < 32; ++i) {
    auto stream = (*client)->open_stream(1s);
    ASSERT_TRUE(stream.ok()) << "stream " << i << ": " << stream.error().describe();
    ASSERT_TRUE((*stream)->write_frame("held").ok());
    open.push_back(*stream);
  }
  // The 33rd waits for a free slot: with none freed it times out, not fails.
  auto waiting = (*client)->open_stream(300ms);
  ASSERT_FALSE(waiting.ok());
  EXPECT_EQ(waiting.error().code(), Errc::Timeout);
  // Finishing one stream frees a slot; the 33rd then opens.
  open[0]->finish();
  auto echoed = (*client)->read_frame(*open[0], 5s);
  ASSERT_TRUE(echoed.ok() && echoed->has_value());
  auto end = (*client)->read_frame(*open[0], 5s);
  ASSERT_TRUE(end.ok() && !end->has_value());
  auto thirty_third = (*client)->open_stream(5s);
  EXPECT_TRUE(thirty_third.ok()) << thirty_third.error().describe();
}

// Limits that let one side write (and read) frames above the protocol's maximum.
Limits oversized_limits() {
  Limits limits;
  limits.handshake_timeout = 3s;
  limits.max_frame_bytes = 1 << 20;
  limits.stream_receive_window = 2 << 20;
  limits.max_incomplete_frame_bytes = 2 << 20;
  return limits;
}

TEST_F(QuicTest, WriterRefusesAnOversizedFrame) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok());
  auto stream = (*client)->open_stream();
  ASSERT_TRUE(stream.ok());
  auto refused_write = (*stream)->write_frame(std::string(524289, 'x'));
  ASSERT_FALSE(refused_write.ok());
  EXPECT_EQ(refused_write.error().code(), Errc::FrameTooLarge);
  EXPECT_NE(refused_write.error().message().find("524289"), std::string::npos);
  EXPECT_EQ((*stream)->unacknowledged_bytes(), 0u);  // nothing was queued
}

TEST_F(QuicTest, ServerRefusesAnOversizedFrameAndKeepsTheConnection) {
  EchoServer strict(server_tls(), quick_limits());
  ASSERT_TRUE(strict.ok());
  auto client = Client::connect(strict.address(), client_tls(), oversized_limits());
  ASSERT_TRUE(client.ok());
  auto stream = (*client)->open_stream();
  ASSERT_TRUE(stream.ok());
  ASSERT_TRUE((*stream)->write_frame(std::string(524289, 'y')).ok());
  (*stream)->finish();
  auto answer = (*client)->read_frame(**stream, 5s);
  ASSERT_TRUE(answer.ok() && answer->has_value())
      << (answer.ok() ? "ended" : answer.error().describe());
  EXPECT_EQ(**answer, "read_error:FrameTooLarge");
  EXPECT_EQ(strict.frames_received.load(), 0);
  // The connection and other streams are unaffected.
  EXPECT_EQ(echo(**client, "next"), "next");
}

TEST_F(QuicTest, ClientRefusesAnOversizedFrameFromTheServer) {
  EchoServer generous(server_tls(), oversized_limits());
  ASSERT_TRUE(generous.ok());
  auto client = Client::connect(generous.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok());
  auto stream = (*client)->open_stream();
  ASSERT_TRUE(stream.ok());
  ASSERT_TRUE((*stream)->write_frame("big:614400").ok());
  (*stream)->finish();
  auto frame = (*client)->read_frame(**stream, 5s);
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.error().code(), Errc::FrameTooLarge);
  EXPECT_NE(frame.error().message().find("614400"), std::string::npos) << frame.error().describe();
  EXPECT_EQ(echo(**client, "next"), "next");
}

TEST_F(QuicTest, MultiMegabyteTransferSurvivesFivePercentLoss) {
  NetworkImpairment lossy{0.05, 0.01, 0.02, 7};
  EchoServer server(server_tls(), quick_limits(), &lossy);
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok()) << client.error().describe();
  (*client)->set_impairment({0.05, 0.01, 0.02, 11});
  auto stream = (*client)->open_stream();
  ASSERT_TRUE(stream.ok());
  std::vector<std::string> sent;
  for (int i = 0; i < 8; ++i) {
    std::string frame(512 * 1024, static_cast<char>('A' + i));
    frame[i * 1000] = '#';
    sent.push_back(frame);
    ASSERT_TRUE((*stream)->write_frame(frame).ok());
  }
  (*stream)->finish();
  for (int i = 0; i < 8; ++i) {
    auto frame = (*client)->read_frame(**stream, 60s);
    ASSERT_TRUE(frame.ok() && frame->has_value())
        << "frame " << i << ": " << (frame.ok() ? "ended" : frame.error().describe());
    ASSERT_TRUE(**frame == sent[static_cast<std::size_t>(i)]) << "frame " << i << " differs";
  }
}

}  // namespace
}  // namespace palyra::transport
