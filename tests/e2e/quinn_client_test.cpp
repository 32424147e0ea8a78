// The independent quinn + rustls client against the real palyrad: health,
// events with and without --resume-from, its raw protocol cases, pinning,
// and the refusals it must see.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "daemon_fixture.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/runtime/protocol.hpp"

namespace palyra::e2e {
namespace {

using runtime::ProtocolError;
using ::testing::HasSubstr;

class QuinnClientTest : public DaemonTest {
 protected:
  void SetUp() override {
    if (std::string(PALYRA_QUINN_PEER).empty()) {
      GTEST_SKIP() << "quinn peer not built (scripts/test builds it when its sources are beside "
                      "the project)";
    }
    DaemonTest::SetUp();
  }
  // `quinn-peer <command> --connect ... <args>`, as node-1.
  palyra::testing::CommandResult peer(const std::string& command, std::vector<std::string> args,
                                      bool with_identity = true) {
    std::vector<std::string> argv = {
        PALYRA_QUINN_PEER, command,     "--connect", address_,
        "--server-name",   "localhost", "--ca",      state_.ca_cert().string()};
    if (with_identity) {
      argv.insert(argv.end(), {"--cert", state_.device_cert("node-1").string(), "--key",
                               state_.device_key("node-1").string()});
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
};

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST_F(QuinnClientTest, HealthAndEventsWithAndWithoutResume) {
  ASSERT_TRUE(start_daemon());
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(palyra({"publish", "interop", std::to_string(i)}).status, 0);
  auto health = peer("health", {});
  EXPECT_EQ(health.status, 0) << health.err;
  EXPECT_EQ(health.out, runtime::encode_health(true) + "\n");
  auto fingerprint = identity::Certificate::from_pem_file(state_.server_cert())->fingerprint();
  EXPECT_EQ(peer("health", {"--pin-sha256", fingerprint}).status, 0);
  auto wrong_pin = peer("health", {"--pin-sha256", std::string(64, '0')});
  EXPECT_EQ(wrong_pin.status, 1);
  EXPECT_THAT(wrong_pin.err, HasSubstr("pin mismatch"));

  auto events = peer("events", {});
  EXPECT_EQ(events.status, 0) << events.err;
  EXPECT_EQ(line_count(events.out), 5u) << events.out;
  EXPECT_THAT(events.out,
              HasSubstr(R"("seq":5,"event":{"name":"interop","payload":4,"device_id":"node-1")"));
  auto resumed = peer("events", {"--resume-from", "3"});
  EXPECT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_EQ(line_count(resumed.out), 2u) << resumed.out;
  EXPECT_EQ(resumed.out.find(R"("seq":3,)"), std::string::npos);
}

TEST_F(QuinnClientTest, TheirRawCases) {
  ASSERT_TRUE(start_daemon());
  ASSERT_EQ(palyra({"publish", "only"}).status, 0);
  auto err = [](ProtocolError e) { return runtime::encode_error(e) + "\n"; };
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  } cases[] = {
      {{"--frame-json", R"({"protocol_version":1,)"}, err(ProtocolError::InvalidRequest)},
      {{"--frame-json", R"({"protocol_version":1,"method":"node.health","x":true})"},
       err(ProtocolError::InvalidRequest)},
      {{"--frame-json", R"([1,"node.health"])"}, err(ProtocolError::InvalidRequest)},
      {{"--frame-json", R"({"protocol_version":1,"method":"node.health","method":"node.health"})"},
       err(ProtocolError::InvalidRequest)},
      {{"--frame-json", ""}, err(ProtocolError::InvalidRequest)},
      {{"--frame-json", R"({"protocol_version":2,"method":"node.health"})"},
       err(ProtocolError::ProtocolMismatch)},
      {{"--frame-json", R"({"protocol_version":1,"method":"node.nope"})"},
       err(ProtocolError::UnsupportedMethod)},
      {{"--length-override", "524289", "--frame-json",
        R"({"protocol_version":1,"method":"node.health"})"},
       err(ProtocolError::StreamFailure)},
      {{"--length-override", "100", "--frame-json",
        R"({"protocol_version":1,"method":"node.health"})"},
       err(ProtocolError::StreamFailure)},
      {{"--frame-json",
        R"({"protocol_version":1,"method":"node.publish_event","params":{"name":"raw","payload":[1]}})"},
       runtime::encode_published(2) + "\n"},
  };
  for (const auto& c : cases) {
    auto r = peer("raw", c.args);
    EXPECT_EQ(r.status, 0) << c.args.back() << ": " << r.err;
    EXPECT_EQ(r.out, c.expect) << c.args.back();
  }
}

// A gateway made with --key-type ed25519: rustls verifies palyrad's Ed25519
// chain and signature, and palyrad the peer's Ed25519 device key.
TEST_F(QuinnClientTest, Ed25519GatewayAndDevice) {
  auto init = palyra(
      {"init", "--force", "--key-type", "ed25519", "--state-dir", state_.root.string()}, false);
  ASSERT_EQ(init.status, 0) << init.err;
  for (const auto& file : {state_.ca_cert(), state_.server_cert(), state_.device_cert("node-1")}) {
    ASSERT_EQ(identity::Certificate::from_pem_file(file)->key_type(), identity::KeyType::Ed25519)
        << file;
  }
  ASSERT_TRUE(start_daemon());
  ASSERT_EQ(palyra({"publish", "ed", "1"}).status, 0);
  auto health = peer("health", {});
  EXPECT_EQ(health.status, 0) << health.err;
  EXPECT_EQ(health.out, runtime::encode_health(true) + "\n");
  auto fingerprint = identity::Certificate::from_pem_file(state_.server_cert())->fingerprint();
  EXPECT_EQ(peer("health", {"--pin-sha256", fingerprint}).status, 0);
  auto events = peer("events", {});
  EXPECT_EQ(events.status, 0) << events.err;
  EXPECT_THAT(events.out,
              HasSubstr(R"("seq":1,"event":{"name":"ed","payload":1,"device_id":"node-1")"));
}

TEST_F(QuinnClientTest, RefusedWithoutCertificateOrFromAnotherCa) {
  ASSERT_TRUE(start_daemon());
  auto none = peer("health", {}, false);
  EXPECT_EQ(none.status, 1);
  EXPECT_THAT(none.err, HasSubstr("requires a client certificate"));
  // A device certificate from a different CA, with the right trust anchor.
  auto other = dir_ / "other";
  ASSERT_EQ(palyra({"init", "--state-dir", other.string()}, false).status, 0);
  auto stranger = peer("health",
                       {"--cert", (other / "devices/node-1/device.pem").string(), "--key",
                        (other / "devices/node-1/device.key").string()},
                       false);
  EXPECT_EQ(stranger.status, 1) << stranger.out;
  EXPECT_THAT(log_with("connection refused"), HasSubstr("connection refused"));
}

}  // namespace
}  // namespace palyra::e2e
