// A node that starts request frames and never finishes them, against the
// real palyrad: the daemon holds at most its budget of them per connection,
// answers the streams it stops with stream_failure (over the budget at
// once, the others at gateway.request_frame_timeout_ms), counts both in
// /metrics, and node.health on the same connection still answers.
#include <gtest/gtest.h>

#include <thread>

#include "../transport/half_frame.hpp"
#include "daemon_fixture.hpp"
#include "palyra/runtime/protocol.hpp"
#include "prometheus_scrape.hpp"

namespace palyra::e2e {
namespace {

using runtime::ProtocolError;
using transport::testing::half_frame;

const std::string kBudget = R"(palyra_quic_request_streams_stopped_total{reason="frame_budget"})";
const std::string kTimeout = R"(palyra_quic_request_streams_stopped_total{reason="frame_timeout"})";
const std::string kHeld = "palyra_quic_incomplete_frame_bytes";

class RequestFramesTest : public DaemonTest {
 protected:
  Scrape scrape() {
    auto body = http_get_metrics(metrics_address_);
    EXPECT_TRUE(body) << (body ? "" : body.error().describe());
    if (!body) return {};
    auto parsed = Scrape::parse(*body);
    EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().describe());
    return parsed ? std::move(*parsed) : Scrape{};
  }
};

TEST_F(RequestFramesTest, StalledFramesAreStoppedAndTheConnectionStillAnswers) {
  ASSERT_TRUE(
      start_daemon({"--metrics-listen", "127.0.0.1:0", "--request-frame-timeout-ms", "5000"}));
  auto client = connect_device();
  ASSERT_TRUE(client);
  // 32 streams, each half a maximal request frame: 8 MiB announced.
  constexpr std::size_t kHalf = transport::kDefaultMaxFrameBytes / 2;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 32; ++i) {
    auto stream = client->open_stream(1s);
    ASSERT_TRUE(stream) << "stream " << i << ": " << stream.error().describe();
    ASSERT_TRUE((*stream)->write_framed(half_frame(transport::kDefaultMaxFrameBytes, kHalf)));
    ids.push_back((*stream)->id());
  }
  auto answered = [&] {
    std::size_t count = 0;
    for (auto id : ids) {
      transport::Stream* stream = client->connection().find_stream(id);
      if (stream != nullptr && stream->has_frame()) ++count;
    }
    return count;
  };
  // The 1 MiB budget holds four halves: the other 28 are stopped at once.
  ASSERT_TRUE(client->run_until([&] { return answered() == 28; }, 10s)) << answered();
  const Scrape during = scrape();
  EXPECT_EQ(during.counter(kBudget), 28.0);
  // Four halves held, or none if their timeout came first on a slow host.
  EXPECT_LE(during.value(kHeld).value_or(-1), 4.0 * kHalf);
  EXPECT_EQ(call(*client, runtime::encode_health_request()),
            std::vector<std::string>{runtime::encode_health(true)});

  // The four within the budget are stopped at the timeout (5 s here).
  ASSERT_TRUE(client->run_until([&] { return answered() == 32; }, 15s)) << answered();
  for (auto id : ids) {
    auto answer = client->read_frame(*client->connection().find_stream(id), 1s);
    ASSERT_TRUE(answer && answer->has_value()) << "stream " << id;
    EXPECT_EQ(**answer, runtime::encode_error(ProtocolError::StreamFailure)) << "stream " << id;
  }
  const Scrape after = scrape();
  EXPECT_EQ(after.counter(kTimeout), 4.0);
  EXPECT_EQ(after.value(kHeld), 0.0);
  EXPECT_EQ(call(*client, runtime::encode_health_request()),
            std::vector<std::string>{runtime::encode_health(true)});
}

}  // namespace
}  // namespace palyra::e2e
