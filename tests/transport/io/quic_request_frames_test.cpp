// Request frames that never complete, against the Server on loopback: what
// a connection holds for them stays within its budget, the streams past it
// are stopped (and answered), the Server counts them, and the connection
// still serves requests.
#include "../half_frame.hpp"
#include "quic_fixture.hpp"

namespace palyra::transport {
namespace {

using testing::half_frame;

TEST_F(QuicTest, HalfFramesOnEveryStreamStayWithinTheServersBudget) {
  Limits limits = quick_limits();
  limits.request_frame_timeout = 5min;  // the budget alone, here
  EchoServer server(server_tls(), limits);
  ASSERT_TRUE(server.ok()) << server.bind_error();
  auto client = Client::connect(server.address(), client_tls(), limits);
  ASSERT_TRUE(client.ok()) << client.error().describe();
  // 32 streams, each half a maximal frame: 8 MiB announced, 4 MiB sent.
  constexpr std::size_t kHalf = kDefaultMaxFrameBytes / 2;
  constexpr std::size_t kHeld = kHalf;  // what a survivor holds: its payload so far
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 32; ++i) {
    auto stream = (*client)->open_stream(1s);
    ASSERT_TRUE(stream.ok()) << "stream " << i << ": " << stream.error().describe();
    ASSERT_TRUE((*stream)->write_framed(half_frame(kDefaultMaxFrameBytes, kHalf)));
    ids.push_back((*stream)->id());
  }
  // Four halves fit in the budget; the 28 others are stopped and answered.
  const std::size_t fit = limits.max_incomplete_frame_bytes / kHeld;
  ASSERT_EQ(fit, 4u);
  auto answered = [&] {
    std::size_t count = 0;
    for (auto id : ids) {
      Stream* stream = (*client)->connection().find_stream(id);
      if (stream != nullptr && stream->has_frame()) ++count;
    }
    return count;
  };
  auto stats = [&] { return server.on_loop([](Server& s) { return s.stats(); }); };
  ASSERT_TRUE((*client)->run_until(
      [&] { return answered() == 32 - fit && stats().incomplete_frame_bytes == fit * kHeld; }, 20s))
      << answered() << " streams answered, the server holds " << stats().incomplete_frame_bytes
      << " bytes";
  EXPECT_EQ(stats().request_streams_stopped_over_budget, 32 - fit);
  EXPECT_EQ(stats().request_streams_stopped_stalled, 0u);
  for (auto id : ids) {
    Stream* stream = (*client)->connection().find_stream(id);
    ASSERT_NE(stream, nullptr);
    if (!stream->has_frame()) continue;
    auto answer = (*client)->read_frame(*stream, 1s);
    ASSERT_TRUE(answer.ok() && answer->has_value()) << "stream " << id;
    EXPECT_EQ(**answer, "read_error:FrameReadFailed") << "stream " << id;
  }
  // The connection still answers, with its stopped streams' credit back.
  EXPECT_EQ(echo(**client, R"({"protocol_version":1,"method":"node.health"})"),
            R"({"protocol_version":1,"method":"node.health"})");
}

}  // namespace
}  // namespace palyra::transport
