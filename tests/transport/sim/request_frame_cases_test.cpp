// A peer that starts request frames and never finishes them, on simulated
// time: the server's connection stops the stream that would take its
// incomplete frames past their budget, stops a stream whose frame stalls
// past the timeout, and keeps serving the connection's other streams.
#include <map>
#include <string>

#include "../half_frame.hpp"
#include "sim_fixture.hpp"

namespace palyra::transport::sim {
namespace {

using testing::half_frame;

// The server's side: echoes each complete frame and finishes; a stream whose
// reading failed is answered "stopped:<code>" instead, as the daemon answers
// stream_failure. Remembers when and why each stream was stopped.
class EchoApplication {
 public:
  struct Stop {
    Errc code;
    std::uint64_t at_ns;
  };

  EchoApplication(Network& network, std::size_t& most_held)
      : network_(network), most_held_(most_held) {}

  void serve(Connection& server) {
    server.events.on_stream_readable = [this](Connection& c, Stream& stream) {
      most_held_ = std::max(most_held_, c.incomplete_frames().held_bytes);
      while (auto frame = stream.take_frame()) (void)stream.write_frame(*frame);
      if (stream.user_tag != 0) return;  // answered already
      if (stream.read_error()) {
        stops[stream.id()] = {stream.read_error()->code(), network_.now_ns()};
        (void)stream.write_frame("stopped:" + std::string(errc_name(stream.read_error()->code())));
        stream.finish();
        stream.user_tag = 1;
      } else if (stream.read_ended()) {
        stream.finish();
        stream.user_tag = 1;
      }
    };
  }

  std::map<std::int64_t, Stop> stops;

 private:
  Network& network_;
  std::size_t& most_held_;
};

class RequestFrameCases : public SimulatedInteropTest {
 protected:
  // Connects with `limits` on both sides; the client keeps every frame it
  // receives, by stream.
  void start(const Limits& limits) {
    NetworkConfig config = network_config(1);
    config.limits = limits;
    network_ = make_network(config);
    app_ = std::make_unique<EchoApplication>(*network_, most_held_);
    network_->on_server_accepted = [this](Connection& server) { app_->serve(server); };
    network_->connect();
    network_->client()->events.on_stream_readable = [this](Connection&, Stream& stream) {
      while (auto frame = stream.take_frame()) answers_[stream.id()].push_back(std::move(*frame));
    };
    ASSERT_TRUE(network_->run_until(
        [&] {
          return network_->server() != nullptr &&
                 network_->server()->state() == Connection::State::Established &&
                 network_->client()->state() == Connection::State::Established;
        },
        5 * kSecond))
        << describe(*network_);
  }

  // A request on a new stream and its answer, within `limit_ns`.
  std::string round_trip(const std::string& request, std::uint64_t limit_ns = 5 * kSecond) {
    auto stream = network_->client()->open_stream();
    EXPECT_TRUE(stream.ok()) << stream.error().describe();
    if (!stream) return {};
    const std::int64_t id = (*stream)->id();
    EXPECT_TRUE((*stream)->write_frame(request));
    (*stream)->finish();
    EXPECT_TRUE(network_->run_until([&] { return answers_.count(id) != 0; }, limit_ns))
        << describe(*network_);
    return answers_.count(id) != 0 ? answers_[id].front() : std::string();
  }

  std::size_t most_held_ = 0;
  std::unique_ptr<Network> network_;
  std::unique_ptr<EchoApplication> app_;
  std::map<std::int64_t, std::vector<std::string>> answers_;
};

// 32 streams, each stopped halfway through a maximal frame: 8 MiB announced,
// twice the connection's receive window. The server holds at most its
// budget of it at any time, stops each stream that would pass it, and the
// connection still answers a request afterwards.
TEST_F(RequestFrameCases, StalledFramesOnEveryStreamStayWithinTheBudget) {
  Limits limits;
  limits.request_frame_timeout = std::chrono::minutes(5);  // the budget alone, here
  start(limits);
  constexpr std::size_t kHalf = 256 * 1024;
  constexpr std::size_t kHeld = kHalf;  // what a survivor holds: its payload so far
  for (int i = 0; i < 32; ++i) {
    auto stream = network_->client()->open_stream();
    ASSERT_TRUE(stream.ok()) << "stream " << i << ": " << stream.error().describe();
    ASSERT_TRUE((*stream)->write_framed(half_frame(kDefaultMaxFrameBytes, kHalf)));
  }
  // Four halves fit in 1 MiB; each of the other 28 streams is stopped once
  // its bytes would pass it, and its answer reaches the client.
  const std::size_t fit = limits.max_incomplete_frame_bytes / kHeld;
  ASSERT_EQ(fit, 4u);
  Connection* server = network_->server();
  const bool settled = network_->run_until(
      [&] {
        return server->incomplete_frames().held_bytes == fit * kHeld && answers_.size() == 32 - fit;
      },
      60 * kSecond);
  ASSERT_TRUE(settled) << "held " << server->incomplete_frames().held_bytes << " bytes, "
                       << answers_.size() << " streams answered; " << describe(*network_);
  EXPECT_LE(most_held_, limits.max_incomplete_frame_bytes);
  EXPECT_EQ(server->incomplete_frames().stopped_over_budget, 32 - fit);
  EXPECT_EQ(server->incomplete_frames().stopped_stalled, 0u);
  for (const auto& [id, answer] : answers_) {
    EXPECT_EQ(answer, std::vector<std::string>{"stopped:FrameReadFailed"}) << "stream " << id;
  }
  // The stopped streams' slots and credit came back: a request still passes.
  EXPECT_EQ(round_trip(R"({"protocol_version":1,"method":"node.health"})"),
            R"({"protocol_version":1,"method":"node.health"})");
  EXPECT_EQ(network_->server(), server);
  EXPECT_EQ(server->state(), Connection::State::Established);
}

// A stream stalled halfway through a small frame holds little, but holds it
// (and a stream slot) for as long as the peer likes: it is stopped at the
// timeout, counted from the stream's opening, and the connection serves on.
TEST_F(RequestFrameCases, StalledFrameIsStoppedAtTheTimeout) {
  Limits limits;
  limits.request_frame_timeout = std::chrono::seconds(10);
  start(limits);
  auto stalled = network_->client()->open_stream();
  ASSERT_TRUE(stalled.ok()) << stalled.error().describe();
  const std::int64_t id = (*stalled)->id();
  ASSERT_TRUE((*stalled)->write_framed(half_frame(4096, 1000)));
  const std::uint64_t sent_at = network_->now_ns();
  // Another stream completes its request meanwhile: only the stalled one owes.
  EXPECT_EQ(round_trip("meanwhile"), "meanwhile");

  ASSERT_TRUE(network_->run_until([&] { return answers_.count(id) != 0; }, 60 * kSecond))
      << describe(*network_);
  ASSERT_EQ(app_->stops.count(id), 1u);
  EXPECT_EQ(app_->stops[id].code, Errc::Timeout);
  // Opened when its first packet arrived, at least the link's one-way 15 ms
  // after it was sent (plus its jitter and queue); the deadline is exact on
  // simulated time.
  const std::uint64_t stalled_for = app_->stops[id].at_ns - sent_at;
  EXPECT_GE(stalled_for, 10 * kSecond + 15 * kMs);
  EXPECT_LE(stalled_for, 10 * kSecond + 100 * kMs);
  EXPECT_EQ(answers_[id], std::vector<std::string>{"stopped:Timeout"});
  Connection* server = network_->server();
  EXPECT_EQ(server->incomplete_frames().stopped_stalled, 1u);
  EXPECT_EQ(server->incomplete_frames().held_bytes, 0u);
  EXPECT_EQ(round_trip("after"), "after");
  EXPECT_EQ(server->state(), Connection::State::Established);
}

// The bytes of a frame the server drops were counted against the
// connection's receive window when they arrived; ngtcp2 returns only the
// credit of bytes it never delivered, so the connection gives back the rest.
// Here a peer abandons (resets) halves of frames until five times the
// connection window went by: without that credit the sixth window stalls.
TEST_F(RequestFrameCases, DroppedFramesGiveTheirCreditBack) {
  const Limits limits = small_windows();  // a 128 KiB connection window
  start(limits);
  constexpr std::size_t kHalf = 8 * 1024;
  Connection* server = network_->server();
  for (std::uint64_t sent = 0; sent < 5 * limits.connection_receive_window; sent += kHalf) {
    auto stream = network_->client()->open_stream();
    ASSERT_TRUE(stream.ok()) << stream.error().describe();
    ASSERT_TRUE((*stream)->write_framed(half_frame(limits.max_frame_bytes, kHalf)));
    ASSERT_TRUE(network_->run_until([&] { return server->incomplete_frames().held_bytes == kHalf; },
                                    5 * kSecond))
        << "after " << sent << " bytes: " << describe(*network_);
    (*stream)->reset();
    ASSERT_TRUE(network_->run_until([&] { return server->incomplete_frames().held_bytes == 0; },
                                    5 * kSecond))
        << describe(*network_);
  }
  EXPECT_EQ(round_trip("after"), "after");
}

}  // namespace
}  // namespace palyra::transport::sim
