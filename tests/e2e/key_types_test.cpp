// End to end with Ed25519 keys: a gateway made with `palyra init --key-type
// ed25519` serves QUIC and the gRPC fallback (BoringSSL/OpenSSL under gRPC)
// to devices of both key types, nodes enroll with either type and renewal
// keeps it, and an unknown type is refused with one line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "grpc_fallback_fixture.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/runtime/protocol.hpp"

namespace palyra::e2e {
namespace {

using identity::KeyType;
using ::testing::HasSubstr;

class KeyTypesTest : public GrpcFallbackTest {
 protected:
  // Replaces the fixture's P-256 state directory with one of `type`.
  void init(KeyType type) {
    auto made = palyra({"init", "--force", "--key-type", std::string(identity::key_type_name(type)),
                        "--state-dir", state_.root.string()},
                       false);
    ASSERT_EQ(made.status, 0) << made.err;
  }
  std::optional<KeyType> type_of(const std::filesystem::path& certificate) {
    auto parsed = identity::Certificate::from_pem_file(certificate);
    EXPECT_TRUE(parsed.ok()) << certificate;
    return parsed ? parsed->key_type() : std::nullopt;
  }
  std::string issue_device(const std::string& id, KeyType type) {
    auto issued =
        palyra({"cert", "device", id, "--key-type", std::string(identity::key_type_name(type)),
                "--state-dir", state_.root.string()},
               false);
    EXPECT_EQ(issued.status, 0) << issued.err;
    EXPECT_EQ(type_of(state_.device_cert(id)), type);
    return id;
  }
  // Health from `device` over QUIC (the CLI) and over the gRPC fallback.
  void expect_served_both_ways(const std::string& device) {
    auto quic = palyra({"health", "--device", device});
    EXPECT_EQ(quic.status, 0) << device << ": " << quic.err;
    pb::NodeResponse response;
    auto grpc = health(*stub(device), &response);
    ASSERT_TRUE(grpc.ok()) << device << ": " << grpc.error_message();
    EXPECT_EQ(*fallback::to_response_frame(response), runtime::encode_health(true)) << device;
  }
  // `palyra <args> --state-dir <node> --connect <daemon>`, as a node would.
  palyra::testing::CommandResult from_node(const std::filesystem::path& node,
                                           std::vector<std::string> args) {
    std::vector<std::string> argv = {PALYRA_CLI_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--state-dir", node.string(), "--connect", address_});
    return run(argv);
  }
};

TEST_F(KeyTypesTest, AnEd25519GatewayServesDevicesOfBothTypesOverQuicAndGrpc) {
  init(KeyType::Ed25519);
  for (const auto& file : {state_.ca_cert(), state_.server_cert(), state_.device_cert("node-1")}) {
    EXPECT_EQ(type_of(file), KeyType::Ed25519) << file;
  }
  issue_device("p256-node", KeyType::P256);
  ASSERT_TRUE(start_daemon());
  ASSERT_NE(grpc_address_, "off");
  for (const std::string device : {"node-1", "p256-node"}) expect_served_both_ways(device);
}

TEST_F(KeyTypesTest, AP256GatewayServesAnEd25519DeviceOverQuicAndGrpc) {
  EXPECT_EQ(type_of(state_.server_cert()), KeyType::P256);
  issue_device("ed-node", KeyType::Ed25519);
  ASSERT_TRUE(start_daemon());
  expect_served_both_ways("ed-node");
}

TEST_F(KeyTypesTest, NodesEnrollWithEitherTypeAndRenewalKeepsIt) {
  init(KeyType::Ed25519);
  ASSERT_TRUE(start_daemon());
  for (KeyType type : {KeyType::Ed25519, KeyType::P256}) {
    const std::string name(identity::key_type_name(type));
    const identity::StateDir node{dir_ / ("node-" + name)};
    auto enrolled = run({PALYRA_CLI_BINARY, "enroll", create_token(), "--connect", address_,
                         "--state-dir", node.root.string(), "--device", name, "--key-type", name});
    ASSERT_EQ(enrolled.status, 0) << enrolled.err;
    EXPECT_EQ(type_of(node.device_cert(name)), type);
    const auto first = identity::Certificate::from_pem_file(node.device_cert(name))->fingerprint();
    auto renewed = from_node(node.root, {"cert", "renew"});
    ASSERT_EQ(renewed.status, 0) << renewed.err;
    EXPECT_NE(identity::Certificate::from_pem_file(node.device_cert(name))->fingerprint(), first);
    EXPECT_EQ(type_of(node.device_cert(name)), type) << "renewal keeps the key type";
    EXPECT_EQ(from_node(node.root, {"health"}).status, 0) << name;
  }
  auto refused = run({PALYRA_CLI_BINARY, "enroll", create_token(), "--connect", address_,
                      "--state-dir", (dir_ / "node-rsa").string(), "--key-type", "rsa"});
  EXPECT_EQ(refused.status, 2);
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("key type 'rsa' is not supported: use p256 or ed25519"));
}

}  // namespace
}  // namespace palyra::e2e
