// NodeService against a real journal, through a CallSink that records what
// a transport would send and lets the test decide how fast the caller reads.
#include "palyra/runtime/node_service.hpp"

#include <gtest/gtest.h>

#include "../common/temp_dir.hpp"

namespace palyra::runtime {
namespace {

// A caller whose receive side the test controls: bytes stay "unacknowledged"
// until drain() is called, like a QUIC peer that stops reading.
class RecordingSink final : public CallSink {
 public:
  bool send(std::string_view frame) override {
    frames.emplace_back(frame);
    backlog += frame.size();
    peak_backlog = std::max(peak_backlog, backlog);
    return alive_;
  }
  void finish() override { finished = true; }
  std::uint64_t backlog_bytes() const override { return backlog; }
  void notify_when_writable(std::uint64_t low_water, std::function<void()> resume) override {
    low_water_ = low_water;
    resume_ = std::move(resume);
  }
  bool alive() const override { return alive_; }

  // The peer read everything: backlog drops and a waiting stream resumes.
  void drain() {
    backlog = 0;
    if (resume_ && backlog < low_water_) std::exchange(resume_, nullptr)();
  }
  void disconnect() { alive_ = false; }

  std::vector<std::string> frames;
  std::uint64_t backlog = 0;
  std::uint64_t peak_backlog = 0;
  bool finished = false;

 private:
  bool alive_ = true;
  std::uint64_t low_water_ = 0;
  std::function<void()> resume_;
};

class NodeServiceTest : public palyra::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    loop_ = std::move(transport::EventLoop::create()).value();
    journal_ =
        std::move(journal::open_journal(journal::SqliteBackend{dir_ / "journal.sqlite3"})).value();
  }
  // Publishes through the service and runs the loop until it is answered.
  void publish(const std::string& payload) {
    auto answer = call(encode_publish_request("e", payload), Caller{"dev"});
    ASSERT_NE(answer.find("\"published\""), std::string::npos) << answer;
  }
  // One call, the loop run until it is answered; its one frame.
  std::string call(const std::string& request, const Caller& caller) {
    auto sink = std::make_shared<RecordingSink>();
    service().handle(request, caller, sink);
    for (int i = 0; i < 5000 && !sink->finished; ++i)
      (void)loop_->run_once(std::chrono::milliseconds(1));
    EXPECT_TRUE(sink->finished);
    EXPECT_EQ(sink->frames.size(), 1u);
    return sink->frames.empty() ? std::string() : sink->frames[0];
  }
  NodeService& service() {
    if (!service_) service_ = std::make_unique<NodeService>(*loop_, *journal_, options_);
    return *service_;
  }

  NodeServiceOptions options_;
  std::unique_ptr<transport::EventLoop> loop_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<NodeService> service_;
};

TEST_F(NodeServiceTest, ASlowReaderIsPausedAtTheBudgetNotBuffered) {
  options_.stream_backlog_budget = 64 << 10;
  options_.read_batch_bytes = 16 << 10;
  const std::string payload = "\"" + std::string(1000, 'p') + "\"";
  for (int i = 0; i < 2000; ++i) publish(payload);  // ~2 MB of events

  auto sink = std::make_shared<RecordingSink>();
  service().handle(encode_stream_events_request(std::nullopt, false), Caller{}, sink);
  // Without draining, the stream stops near the budget: the rest waits in
  // the journal, not in memory.
  EXPECT_FALSE(sink->finished);
  EXPECT_LT(sink->peak_backlog, options_.stream_backlog_budget + options_.read_batch_bytes + 2048);
  EXPECT_LT(sink->frames.size(), 100u);
  EXPECT_EQ(service().calls_in_flight(), 1u);

  // Draining resumes it, batch by batch, until every event went out in order.
  for (int i = 0; i < 1000 && !sink->finished; ++i) sink->drain();
  ASSERT_TRUE(sink->finished);
  ASSERT_EQ(sink->frames.size(), 2000u);
  for (std::size_t i = 0; i < sink->frames.size(); ++i) {
    ASSERT_NE(sink->frames[i].find("\"seq\":" + std::to_string(i + 1) + ","), std::string::npos);
  }
  EXPECT_LT(sink->peak_backlog, options_.stream_backlog_budget + options_.read_batch_bytes + 2048);
  EXPECT_EQ(service().active_streams(), 0u);
}

TEST_F(NodeServiceTest, AFollowerThatWentAwayIsForgotten) {
  auto sink = std::make_shared<RecordingSink>();
  service().handle(encode_stream_events_request(std::nullopt, true), Caller{}, sink);
  EXPECT_EQ(service().active_streams(), 1u);
  EXPECT_EQ(service().calls_in_flight(), 0u);  // followers do not hold up shutdown
  sink->disconnect();
  service().drop_dead_streams();
  EXPECT_EQ(service().active_streams(), 0u);
}

TEST_F(NodeServiceTest, AnEventTooLargeForOneFrameIsRefusedAtPublish) {
  options_.max_frame_bytes = 4096;
  auto sink = std::make_shared<RecordingSink>();
  service().handle(encode_publish_request("big", "\"" + std::string(5000, 'x') + "\""), Caller{"d"},
                   sink);
  ASSERT_EQ(sink->frames.size(), 1u);
  EXPECT_EQ(sink->frames[0], encode_error(ProtocolError::InvalidParams));
  EXPECT_EQ(journal_->newest_seq(), 0u);
}

// params.id reaches the journal with the caller's device id: a repeat is
// answered with the first seq, and an id that is not 1 to 64 bytes never
// reaches it.
TEST_F(NodeServiceTest, APublishIdIsIdempotentPerDevice) {
  EXPECT_EQ(call(encode_publish_request("e", "1", "once"), Caller{"dev-a"}), encode_published(1));
  EXPECT_EQ(call(encode_publish_request("e", "2", "once"), Caller{"dev-a"}), encode_published(1));
  EXPECT_EQ(call(encode_publish_request("e", "3", "once"), Caller{"dev-b"}), encode_published(2));
  EXPECT_EQ(call(encode_publish_request("e", "4", std::string(65, 'i')), Caller{"dev-a"}),
            encode_error(ProtocolError::InvalidParams));
  EXPECT_EQ(call(encode_publish_request("e", "4", ""), Caller{"dev-a"}),
            encode_error(ProtocolError::InvalidParams));
  EXPECT_EQ(journal_->newest_seq(), 2u);
}

}  // namespace
}  // namespace palyra::runtime
