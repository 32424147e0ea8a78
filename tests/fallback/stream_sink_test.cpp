// StreamSink between a real NodeService (real journal, real event loop) and
// gRPC's side of a server stream. gRPC's side is played by the test
// (GrpcSide): it starts the writes the sink asks for and completes each when
// the test says the client read it — the pace a real client's flow control
// would set, made deterministic. What is checked: one write in flight, the
// backlog NodeService reads and its budget, resuming at the low-water mark,
// and a cancel that ends the call and lets go of everything.
#include "stream_sink.hpp"

#include <grpcpp/support/status.h>
#include <gtest/gtest.h>

#include <thread>

#include "../common/temp_dir.hpp"
#include "palyra/fallback/mapping.hpp"
#include "palyra/transport/io/event_loop.hpp"

namespace palyra::fallback {
namespace {

using node::v1::NodeResponse;

class GrpcSide final : public ResponseWriter {
 public:
  void start_write(const NodeResponse* message) override {
    EXPECT_EQ(in_flight, nullptr) << "a second write while one is in flight";
    in_flight = message;
    ++writes_started;
  }
  void finish(const grpc::Status& status) override { finishes.push_back(status.error_code()); }

  // The client read the message being written.
  void complete_write(StreamSink& sink, bool ok = true) {
    ASSERT_NE(in_flight, nullptr);
    if (ok) written.push_back(*in_flight);
    in_flight = nullptr;
    sink.on_write_done(ok);
  }

  const NodeResponse* in_flight = nullptr;
  std::size_t writes_started = 0;
  std::vector<NodeResponse> written;
  std::vector<grpc::StatusCode> finishes;
};

class StreamSinkTest : public palyra::testing::TempDirTest {
 protected:
  static constexpr std::uint64_t kBudget = 16 << 10;
  static constexpr std::size_t kBatch = 4 << 10;
  static constexpr std::uint64_t kEvents = 400;  // ~120 KB of frames: far over the budget

  void SetUp() override {
    TempDirTest::SetUp();
    loop_ = std::move(transport::EventLoop::create()).value();
    journal_ =
        std::move(journal::open_journal(journal::SqliteBackend{dir_ / "journal.sqlite3"})).value();
    runtime::NodeServiceOptions options;
    options.stream_backlog_budget = kBudget;
    options.read_batch_bytes = kBatch;
    service_ = std::make_unique<runtime::NodeService>(*loop_, *journal_, options);
    sink_ = std::make_shared<StreamSink>(*loop_, &grpc_);
  }
  void TearDown() override {
    sink_.reset();
    service_.reset();
    journal_.reset();
    TempDirTest::TearDown();
  }

  // kEvents events of ~300 bytes, committed.
  void publish_events() {
    for (std::uint64_t i = 0; i < kEvents; ++i) {
      ASSERT_TRUE(journal_
                      ->append({"e", "\"" + std::string(250, 'p') + "\"", "dev"},
                               [](Result<std::uint64_t>) {})
                      .ok());
    }
    for (int i = 0; i < 5000 && journal_->newest_seq() < kEvents; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(journal_->newest_seq(), kEvents);
  }
  // node.stream_events from the start, answered into the sink.
  void start_stream() {
    service_->handle(runtime::encode_stream_events_request(std::nullopt, false),
                     runtime::Caller{"dev", "127.0.0.1:1"}, sink_);
    run_posted();
  }
  // Runs what was posted to the loop (a resume), without waiting.
  void run_posted() {
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(loop_->run_once(std::chrono::milliseconds(0)).ok());
  }

  std::unique_ptr<transport::EventLoop> loop_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<runtime::NodeService> service_;
  GrpcSide grpc_;
  std::shared_ptr<StreamSink> sink_;
};

TEST_F(StreamSinkTest, OneWriteInFlightTheRestIsBacklogUntilWritten) {
  const std::string frame = runtime::encode_health(true);
  ASSERT_TRUE(sink_->send(frame));
  ASSERT_TRUE(sink_->send(frame));
  ASSERT_TRUE(sink_->send(frame));
  EXPECT_EQ(grpc_.writes_started, 1u);
  EXPECT_EQ(sink_->backlog_bytes(), 3 * frame.size());
  sink_->finish();
  EXPECT_TRUE(grpc_.finishes.empty()) << "finished before the queued frames were written";

  grpc_.complete_write(*sink_);
  EXPECT_EQ(grpc_.writes_started, 2u);
  EXPECT_EQ(sink_->backlog_bytes(), 2 * frame.size());
  grpc_.complete_write(*sink_);
  grpc_.complete_write(*sink_);
  EXPECT_EQ(sink_->backlog_bytes(), 0u);
  ASSERT_EQ(grpc_.written.size(), 3u);
  EXPECT_EQ(*to_response_frame(grpc_.written[2]), frame);
  EXPECT_EQ(grpc_.finishes, std::vector<grpc::StatusCode>{grpc::StatusCode::OK});
  EXPECT_FALSE(sink_->send(frame));  // finishing: nothing more is taken
}

// NodeService stops reading the journal once the sink's backlog reaches its
// budget: what the client has not read waits in the journal, not in memory.
TEST_F(StreamSinkTest, AStalledClientHoldsTheBacklogAtTheBudget) {
  publish_events();
  start_stream();
  EXPECT_EQ(grpc_.writes_started, 1u);
  EXPECT_GE(sink_->backlog_bytes(), kBudget);
  EXPECT_LT(sink_->backlog_bytes(), kBudget + kBatch + 1024);
  // Nothing more is sent however often the loop runs.
  const auto held = sink_->backlog_bytes();
  run_posted();
  EXPECT_EQ(sink_->backlog_bytes(), held);
  EXPECT_TRUE(grpc_.finishes.empty());
}

// The paused stream goes on exactly when the backlog falls below half the
// budget (NodeService's low-water mark) — not before, not later — and every
// event arrives once, in order.
TEST_F(StreamSinkTest, WritingResumesAtTheLowWaterMark) {
  publish_events();
  start_stream();
  const std::uint64_t low_water = kBudget / 2;
  std::size_t resumes = 0;
  for (int i = 0; i < 10000 && grpc_.finishes.empty(); ++i) {
    const auto before = sink_->backlog_bytes();
    grpc_.complete_write(*sink_);
    const auto drained = sink_->backlog_bytes();
    ASSERT_LT(drained, before);
    run_posted();
    const auto after = sink_->backlog_bytes();
    if (before >= low_water && drained < low_water) {
      // Just fell below the mark: the stream went on (more frames, or, once
      // the journal had no more, its end).
      ++resumes;
      EXPECT_TRUE(after > drained || service_->active_streams() == 0)
          << "no resume after the backlog fell to " << drained;
    } else {
      EXPECT_EQ(after, drained) << "sent more at a backlog of " << drained;
    }
  }
  EXPECT_GT(resumes, 3u);
  EXPECT_EQ(grpc_.finishes, std::vector<grpc::StatusCode>{grpc::StatusCode::OK});
  ASSERT_EQ(grpc_.written.size(), kEvents);
  for (std::uint64_t i = 0; i < kEvents; ++i) ASSERT_EQ(grpc_.written[i].seq(), i + 1);
  EXPECT_EQ(service_->active_streams(), 0u);
}

// The client cancels while the stream is paused with a full backlog: the
// queued frames are dropped, the paused stream is woken at once so
// NodeService forgets it and lets go of the sink, and the call ends
// CANCELLED once the write in flight returns.
TEST_F(StreamSinkTest, ACancelEndsTheCallAndReleasesWhatItHolds) {
  publish_events();
  start_stream();
  ASSERT_GE(sink_->backlog_bytes(), kBudget);
  ASSERT_EQ(service_->active_streams(), 1u);

  sink_->on_cancel();
  EXPECT_FALSE(sink_->alive());
  EXPECT_FALSE(sink_->send(runtime::encode_health(true)));
  // Only the frame being written is left of the backlog.
  ASSERT_NE(grpc_.in_flight, nullptr);
  EXPECT_EQ(sink_->backlog_bytes(), to_response_frame(*grpc_.in_flight)->size());
  run_posted();
  EXPECT_EQ(service_->active_streams(), 0u);
  EXPECT_EQ(sink_.use_count(), 1) << "NodeService still holds the cancelled sink";
  EXPECT_TRUE(grpc_.finishes.empty()) << "Finish while a write is still in flight";

  grpc_.complete_write(*sink_, false);  // gRPC fails the write of a cancelled call
  EXPECT_EQ(grpc_.finishes, std::vector<grpc::StatusCode>{grpc::StatusCode::CANCELLED});
  EXPECT_EQ(sink_->backlog_bytes(), 0u);
  EXPECT_EQ(grpc_.writes_started, 1u);
  sink_->on_done();
  EXPECT_EQ(grpc_.finishes.size(), 1u);
}

TEST_F(StreamSinkTest, ACancelWithNothingInFlightEndsTheCallAtOnce) {
  ASSERT_TRUE(sink_->send(runtime::encode_health(true)));
  grpc_.complete_write(*sink_);
  sink_->on_cancel();
  EXPECT_EQ(grpc_.finishes, std::vector<grpc::StatusCode>{grpc::StatusCode::CANCELLED});
  sink_->finish();  // NodeService ending the stream afterwards changes nothing
  EXPECT_EQ(grpc_.finishes.size(), 1u);
}

// A resume kept for a paused stream is handed back when the call ends
// without a cancel first (the client vanished mid-write).
TEST_F(StreamSinkTest, AFailedWriteWakesThePausedStream) {
  publish_events();
  start_stream();
  ASSERT_EQ(service_->active_streams(), 1u);
  grpc_.complete_write(*sink_, false);
  EXPECT_EQ(grpc_.finishes, std::vector<grpc::StatusCode>{grpc::StatusCode::CANCELLED});
  EXPECT_EQ(sink_->backlog_bytes(), 0u);
  run_posted();
  EXPECT_EQ(service_->active_streams(), 0u);
}

}  // namespace
}  // namespace palyra::fallback
