// qlog end to end (OPERATIONS.md): palyrad and the palyra CLI, each given a
// qlog directory, leave one trace each of their connection; the two parse,
// record by record, and pair up.
#include <gmock/gmock.h>

#include "../common/qlog_trace.hpp"
#include "daemon_fixture.hpp"

namespace palyra::e2e {
namespace {

using palyra::testing::files_in;
using palyra::testing::QlogTrace;
using palyra::testing::read_qlog;
using ::testing::Contains;
using ::testing::HasSubstr;

class QlogTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    server_dir_ = dir_ / "server-qlog";
    client_dir_ = dir_ / "client-qlog";
    std::filesystem::create_directories(server_dir_);
    std::filesystem::create_directories(client_dir_);
  }
  // The one trace in `dir`, read and checked: named by its connection ID,
  // from `side`, with packets both ways.
  static QlogTrace only_trace(const std::filesystem::path& dir, const std::string& side) {
    QlogTrace trace;
    auto files = files_in(dir);
    EXPECT_EQ(files.size(), 1u) << dir;
    if (files.size() != 1) return trace;
    const auto& [name, path] = *files.begin();
    auto read = read_qlog(path, trace);
    EXPECT_TRUE(read);
    if (!read) return trace;
    EXPECT_EQ(name, trace.initial_scid("local") + ".sqlog");
    EXPECT_EQ(trace.vantage_point(), side) << name;
    EXPECT_THAT(trace.event_names(), Contains("transport:packet_sent")) << name;
    EXPECT_THAT(trace.event_names(), Contains("transport:packet_received")) << name;
    return trace;
  }

  std::filesystem::path server_dir_;
  std::filesystem::path client_dir_;
};

TEST_F(QlogTest, DaemonAndCliEachTraceTheirSideOfTheConnection) {
  ASSERT_TRUE(start_daemon({"--qlog-dir", server_dir_.string()}));
  auto health = palyra({"health", "--qlog-dir", client_dir_.string()});
  ASSERT_EQ(health.status, 0) << health.err;
  EXPECT_EQ(stop_daemon(), 0);  // its connections are gone: their traces ended
  const QlogTrace server = only_trace(server_dir_, "server");
  const QlogTrace client = only_trace(client_dir_, "client");
  EXPECT_EQ(server.group_id(), client.group_id());
  EXPECT_EQ(server.initial_scid("remote"), client.initial_scid("local"));
}

TEST_F(QlogTest, TheCliTakesTheDirectoryFromPalyraQlogDir) {
  ASSERT_TRUE(start_daemon());
  auto health = palyra::testing::run_command(
      {PALYRA_CLI_BINARY, "health", "--state-dir", state_.root.string(), "--connect", address_},
      dir_, {{"PALYRA_QLOG_DIR", client_dir_.string()}});
  ASSERT_EQ(health.status, 0) << health.err;
  only_trace(client_dir_, "client");
  EXPECT_TRUE(files_in(server_dir_).empty());  // the daemon was not asked to trace
}

TEST_F(QlogTest, ADirectoryThatIsNotThereIsOneLineAtStartForBoth) {
  const auto missing = dir_ / "missing";
  const auto daemon_err = dir_ / "palyrad.stderr";
  palyra::testing::ChildProcess daemon(
      {PALYRAD_BINARY, "--state-dir", state_.root.string(), "--quic-port", "0", "--grpc-port", "0",
       "--grpc-enroll-port", "0", "--qlog-dir", missing.string()},
      daemon_err);
  EXPECT_EQ(daemon.wait(10s), 2);  // -1: it started serving
  const std::string err = run({"/bin/cat", daemon_err.string()}).out;
  EXPECT_THAT(err, HasSubstr("qlog_dir: "));
  EXPECT_THAT(err, HasSubstr(missing.string()));
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;

  // The CLI refuses before it connects: no daemon is needed.
  address_ = "127.0.0.1:9";
  auto health = palyra({"health", "--qlog-dir", missing.string()});
  EXPECT_EQ(health.status, 2);
  EXPECT_THAT(health.err, HasSubstr("--qlog-dir"));
  EXPECT_THAT(health.err, HasSubstr(missing.string()));
  EXPECT_EQ(std::count(health.err.begin(), health.err.end(), '\n'), 1) << health.err;
}

}  // namespace
}  // namespace palyra::e2e
