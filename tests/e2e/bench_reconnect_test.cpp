// palyra bench reconnect against the real palyrad: it holds its
// connections, notices the daemon's kill -9 and restart on the same port,
// and reports how long all of them took to come back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon_fixture.hpp"

namespace palyra::e2e {
namespace {

using BenchReconnectTest = DaemonTest;

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(BenchReconnectTest, EveryConnectionComesBackAfterAKillNineAndRestart) {
  constexpr int kCount = 6;
  ASSERT_TRUE(start_daemon({"--workers", "2"}));
  const auto bench_err = dir_ / "bench.err";
  palyra::testing::ChildProcess bench(
      {PALYRA_CLI_BINARY, "bench", "reconnect", "--count", std::to_string(kCount), "--time-limit",
       "30", "--state-dir", state_.root.string(), "--connect", address_},
      bench_err);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (file_text(bench_err).find("holding 6 connections") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_THAT(file_text(bench_err), ::testing::HasSubstr("holding 6 connections"));
  daemon_->signal(SIGKILL);
  daemon_->wait(5s);
  ASSERT_TRUE(start_daemon({"--workers", "2"}));  // on the same port
  const std::string line = bench.read_line(40s);
  EXPECT_EQ(bench.wait(10s), 0) << file_text(bench_err);
  auto figures = nlohmann::json::parse(line, nullptr, false);
  ASSERT_TRUE(figures.is_object()) << "stdout: " << line << "\n" << file_text(bench_err);
  EXPECT_EQ(figures["bench"], "reconnect");
  EXPECT_EQ(figures["lost"], kCount);
  EXPECT_GT(figures["recovered_s"].get<double>(), 0);
  EXPECT_GE(figures["recovered_s"].get<double>(), figures["all_lost_noticed_s"].get<double>());
  EXPECT_GE(figures["attempts"].get<int>(), 2 * kCount) << "each connected twice at least";
}

}  // namespace
}  // namespace palyra::e2e
