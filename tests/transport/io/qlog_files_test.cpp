// qlog traces on disk: a real client and server on loopback, each tracing
// into its own directory, and every record of every file read back.
#include "palyra/transport/io/qlog_files.hpp"

#include <gmock/gmock.h>
#include <sys/stat.h>

#include <fstream>

#include "../../common/qlog_trace.hpp"
#include "quic_fixture.hpp"

namespace palyra::transport {
namespace {

using palyra::testing::files_in;
using palyra::testing::QlogTrace;
using palyra::testing::read_qlog;
using ::testing::Contains;

class QlogFilesTest : public QuicTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("palyra-qlog-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(server_dir());
    std::filesystem::create_directories(client_dir());
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path server_dir() const { return dir_ / "server"; }
  std::filesystem::path client_dir() const { return dir_ / "client"; }

  // A factory that collects its warnings.
  QlogSinkFactory files(const std::filesystem::path& dir) {
    auto factory = qlog_files(dir, [this](const Error& error) { warnings_.push_back(error); });
    EXPECT_TRUE(factory.ok()) << factory.error().describe();
    return factory ? std::move(*factory) : QlogSinkFactory();
  }

  // Connects with the client's traces in `client_qlog`, makes one call,
  // closes.
  void one_call(EchoServer& server, const QlogSinkFactory& client_qlog) {
    auto client = Client::connect(server.address(), client_tls(), quick_limits(),
                                  ConnectOptions{client_qlog});
    ASSERT_TRUE(client.ok()) << client.error().describe();
    EXPECT_EQ(echo(**client, "\"ping\""), "\"ping\"");
    (*client)->close();
  }

  static std::map<std::string, QlogTrace> read_all(const std::filesystem::path& dir) {
    std::map<std::string, QlogTrace> traces;
    for (const auto& [name, path] : files_in(dir)) {
      struct stat st {};
      EXPECT_EQ(::stat(path.c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
      if (auto read = read_qlog(path, traces[name]); !read) {
        ADD_FAILURE() << read.message();
        traces.erase(name);
      }
    }
    return traces;
  }

  std::filesystem::path dir_;
  std::vector<Error> warnings_;  // touched on the server's loop, read after it stopped
};

TEST_F(QlogFilesTest, EachConnectionIsTracedOnBothSidesInAFileNamedByItsConnectionId) {
  {
    EchoServer server(server_tls(), quick_limits());
    ASSERT_TRUE(server.ok()) << server.bind_error();
    server.on_loop([&](Server& s) {
      s.set_qlog(files(server_dir()));
      return 0;
    });
    const QlogSinkFactory client_qlog = files(client_dir());
    one_call(server, client_qlog);
    one_call(server, client_qlog);
  }  // the server's connections are destroyed: their traces end

  auto servers = read_all(server_dir());
  auto clients = read_all(client_dir());
  ASSERT_EQ(servers.size(), 2u);
  ASSERT_EQ(clients.size(), 2u);
  for (auto* side : {&servers, &clients}) {
    for (const auto& [name, trace] : *side) {
      // Named by the connection's own first source connection ID.
      EXPECT_EQ(name, trace.initial_scid("local") + ".sqlog");
      EXPECT_EQ(trace.vantage_point(), side == &servers ? "server" : "client") << name;
      EXPECT_THAT(trace.event_names(), Contains("transport:packet_sent")) << name;
      EXPECT_THAT(trace.event_names(), Contains("transport:packet_received")) << name;
    }
  }
  // Each client trace has its server trace: the same group (the client's
  // first DCID), and each names the other's connection ID.
  for (const auto& [client_name, client] : clients) {
    int matches = 0;
    for (const auto& [server_name, server] : servers) {
      if (server.group_id() != client.group_id()) continue;
      ++matches;
      EXPECT_EQ(server.initial_scid("remote"), client.initial_scid("local"));
      EXPECT_EQ(client.initial_scid("remote"), server.initial_scid("local"));
    }
    EXPECT_EQ(matches, 1) << client_name << " group " << client.group_id();
  }
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(QlogFilesTest, AFileThatCannotBeCreatedIsOneWarningAndTheConnectionGoesOn) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok()) << server.bind_error();
  const QlogSinkFactory client_qlog = files(client_dir());
  std::filesystem::remove(client_dir());  // gone after the start-up check
  one_call(server, client_qlog);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_EQ(warnings_[0].code(), Errc::IoFailed);
  EXPECT_THAT(warnings_[0].message(), ::testing::HasSubstr(client_dir().string()));
  EXPECT_THAT(warnings_[0].message(), ::testing::HasSubstr(".sqlog"));
  EXPECT_EQ(server.established.load(), 1);
}

TEST_F(QlogFilesTest, ADirectoryThatIsNotThereOrNotADirectoryIsRefusedUpFront) {
  auto missing = qlog_files(dir_ / "missing", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::NotFound);
  EXPECT_THAT(missing.error().message(), ::testing::HasSubstr((dir_ / "missing").string()));

  std::ofstream(dir_ / "file") << "not a directory";
  auto file = qlog_files(dir_ / "file", {});
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code(), Errc::IoFailed);
  EXPECT_THAT(file.error().message(), ::testing::HasSubstr("not a directory"));
}

}  // namespace
}  // namespace palyra::transport
