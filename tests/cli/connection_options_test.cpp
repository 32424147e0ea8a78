// How `palyra` turns its connection options into where to connect and
// which identity to present: the host of "host:port" (brackets off an IPv6
// literal) names the server and the gRPC address, and the device identity
// comes from the state directory unless given.
#include "../../src/cli/connection_options.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "../common/temp_dir.hpp"

namespace palyra::cli {
namespace {

class ConnectionOptionsTest : public palyra::testing::TempDirTest {
 protected:
  // Options that need no state directory: --anonymous, no device identity.
  static ConnectionOptions anonymous(const std::string& connect) {
    ConnectionOptions options;
    options.connect = connect;
    options.anonymous = true;
    return options;
  }
  void add_device(const std::string& name) {
    std::filesystem::create_directories(dir_ / "devices" / name);
  }
};

TEST_F(ConnectionOptionsTest, TheHostOfConnectNamesTheServerAndTheGrpcAddress) {
  auto v4 = resolve(anonymous("127.0.0.1:9000"));
  ASSERT_TRUE(v4.ok()) << v4.error().describe();
  EXPECT_EQ(v4->address.to_string(), "127.0.0.1:9000");
  EXPECT_EQ(v4->tls.server_name, "127.0.0.1");
  EXPECT_EQ(v4->grpc_address, "127.0.0.1:7443");

  auto v6 = resolve(anonymous("[::1]:9000"));
  ASSERT_TRUE(v6.ok()) << v6.error().describe();
  EXPECT_EQ(v6->tls.server_name, "::1");
  EXPECT_EQ(v6->grpc_address, "[::1]:7443");

  auto named = anonymous("[::1]:9000");
  named.server_name = "gateway.example";
  named.grpc_connect = "10.0.0.1:1234";
  auto given = resolve(named);
  ASSERT_TRUE(given.ok()) << given.error().describe();
  EXPECT_EQ(given->tls.server_name, "gateway.example");
  EXPECT_EQ(given->grpc_address, "10.0.0.1:1234");

  auto enrolling = resolve_enrollment(anonymous("[::1]:9000"), std::string(64, 'a'));
  ASSERT_TRUE(enrolling.ok()) << enrolling.error().describe();
  EXPECT_EQ(enrolling->grpc_address, "[::1]:7442");
  EXPECT_EQ(enrolling->tls.alpn, transport::kEnrollAlpn);
  EXPECT_TRUE(enrolling->tls.ca_file.empty());
}

TEST_F(ConnectionOptionsTest, BadOptionsSayWhichAndWhy) {
  auto address = resolve(anonymous("nowhere"));
  ASSERT_FALSE(address.ok());
  EXPECT_EQ(address.error().code(), Errc::InvalidArgument);
  EXPECT_NE(address.error().message().find("--connect 'nowhere'"), std::string::npos)
      << address.error().message();

  auto no_timeout = anonymous("127.0.0.1:7444");
  no_timeout.timeout_ms = 0;
  EXPECT_EQ(resolve(no_timeout).error().code(), Errc::InvalidArgument);

  auto half = anonymous("127.0.0.1:7444");
  half.cert = "device.pem";
  auto refused = resolve(half);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("--cert and --key go together"), std::string::npos);
}

TEST_F(ConnectionOptionsTest, TheOnlyDeviceInTheStateDirectoryIsPresented) {
  ConnectionOptions options;
  options.connect = "127.0.0.1:7444";
  options.state_dir = dir_.string();
  auto none = resolve(options);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message().find("no device identity"), std::string::npos);

  add_device("node-1");
  add_device(".node-1.0a");  // a renewed identity's generation directory: no device
  auto one = resolve(options);
  ASSERT_TRUE(one.ok()) << one.error().describe();
  EXPECT_EQ(one->device_id, "node-1");
  EXPECT_EQ(one->tls.cert_file, dir_ / "devices" / "node-1" / "device.pem");
  EXPECT_EQ(one->tls.key_file, dir_ / "devices" / "node-1" / "device.key");
  EXPECT_EQ(one->tls.ca_file, dir_ / "ca" / "ca.pem");
  EXPECT_EQ(one->state_dir, dir_);

  add_device("node-2");
  auto several = resolve(options);
  ASSERT_FALSE(several.ok());
  EXPECT_NE(several.error().message().find("(node-1, node-2)"), std::string::npos)
      << several.error().message();
  options.device = "node-2";
  auto chosen = resolve(options);
  ASSERT_TRUE(chosen.ok()) << chosen.error().describe();
  EXPECT_EQ(chosen->device_id, "node-2");
}

}  // namespace
}  // namespace palyra::cli
