// palyra bench against the real palyrad: every run reports what it did, in
// one JSON line, and fails loudly when the server does not do its part.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon_fixture.hpp"

namespace palyra::e2e {
namespace {

using ::testing::HasSubstr;

class BenchTest : public DaemonTest {
 protected:
  // Runs `palyra bench ARGS...` at our daemon; its stdout must be one JSON line.
  nlohmann::json bench(std::vector<std::string> args, int expected_status = 0) {
    args.insert(args.begin(), "bench");
    auto result = palyra(args);
    EXPECT_EQ(result.status, expected_status) << result.err;
    auto figures = nlohmann::json::parse(result.out, nullptr, false);
    EXPECT_TRUE(figures.is_object()) << "stdout: " << result.out;
    last_err_ = result.err;
    return figures.is_object() ? figures : nlohmann::json::object();
  }
  std::string last_err_;
};

TEST_F(BenchTest, PublishThenStreamEveryEventInOrderOverQuicAndGrpc) {
  ASSERT_TRUE(start_daemon());
  auto published =
      bench({"publish", "--count", "300", "--concurrency", "40", "--event-bytes", "100"});
  EXPECT_EQ(published["published"], 300);
  EXPECT_EQ(published["failed"], 0);
  EXPECT_EQ(published["first_seq"], 1);
  EXPECT_EQ(published["last_seq"], 300);
  EXPECT_GT(published["publishes_per_s"].get<double>(), 0);

  auto all = bench({"stream"});
  EXPECT_EQ(all["events"], 300);
  EXPECT_GT(all["bytes"].get<std::uint64_t>(), 300u * 100u);
  EXPECT_EQ(bench({"stream", "--resume-from", "100"})["events"], 200);
  auto grpc = bench({"stream", "--transport", "grpc", "--grpc-connect", grpc_address_});
  EXPECT_EQ(grpc["transport"], "grpc");
  EXPECT_EQ(grpc["events"], 300);
}

TEST_F(BenchTest, SeedingPublishesBeforeStreaming) {
  ASSERT_TRUE(start_daemon());
  EXPECT_EQ(bench({"stream", "--seed", "50", "--event-bytes", "16"})["events"], 50);
  EXPECT_EQ(bench({"stream", "--seed", "50", "--resume-from", "50"})["events"], 50);
}

TEST_F(BenchTest, HandshakeAndRpcCountEveryCall) {
  ASSERT_TRUE(start_daemon());
  auto handshakes = bench({"handshake", "--count", "20", "--concurrency", "4"});
  EXPECT_EQ(handshakes["completed"], 20);
  EXPECT_EQ(handshakes["failed"], 0);
  EXPECT_GT(handshakes["p99_ms"].get<double>(), 0);
  auto rpcs = bench({"rpc", "--count", "200", "--concurrency", "16"});
  EXPECT_EQ(rpcs["completed"], 200);
  EXPECT_EQ(rpcs["failed"], 0);
  EXPECT_GE(rpcs["p99_us"].get<double>(), rpcs["p50_us"].get<double>());
}

TEST_F(BenchTest, ConnectionsStayUpAndTheServerMemoryIsMeasured) {
  ASSERT_TRUE(start_daemon());
  auto held = bench({"connections", "--count", "20", "--hold", "1", "--server-pid",
                     std::to_string(daemon_->pid())});
  EXPECT_EQ(held["established"], 20);
  EXPECT_EQ(held["stayed_up"], 20);
  EXPECT_GT(held["server_rss_held_kib"].get<double>(), 0);
  EXPECT_TRUE(held.contains("server_rss_per_connection_kib"));
}

TEST_F(BenchTest, ConnectionsBeyondTheCapAreReportedAsNotStayingUp) {
  ASSERT_TRUE(start_daemon({"--max-connections", "5"}));
  auto held = bench({"connections", "--count", "8", "--hold", "1"}, 1);
  EXPECT_EQ(held["established"], 5);
  EXPECT_EQ(held["stayed_up"], 5);
  EXPECT_THAT(last_err_, HasSubstr("3 of 8 connections did not stay up"));
  EXPECT_THAT(last_err_, HasSubstr("CONNECTION_REFUSED"));
}

TEST_F(BenchTest, StreamingAnEmptyJournalIsAnError) {
  ASSERT_TRUE(start_daemon());
  auto empty = bench({"stream"}, 1);
  EXPECT_EQ(empty["events"], 0);
  EXPECT_THAT(last_err_, HasSubstr("no events after seq 0"));
}

TEST_F(BenchTest, BadArgumentsAreUsageErrors) {
  ASSERT_TRUE(start_daemon());
  auto zero = palyra({"bench", "rpc", "--count", "0"});
  EXPECT_EQ(zero.status, 2);
  EXPECT_THAT(zero.err, HasSubstr("--count and --concurrency must be > 0"));
  auto transport = palyra({"bench", "stream", "--transport", "carrier-pigeon"});
  EXPECT_EQ(transport.status, 2);
}

TEST_F(BenchTest, BulkMeasuresTheTransportAlone) {
  auto result = run({PALYRA_CLI_BINARY, "bench", "bulk", "--bytes", "4194304"});
  ASSERT_EQ(result.status, 0) << result.err;
  auto figures = nlohmann::json::parse(result.out);
  EXPECT_EQ(figures["bytes"], 4194304);
  EXPECT_GT(figures["mb_per_s"].get<double>(), 0);
}

}  // namespace
}  // namespace palyra::e2e
