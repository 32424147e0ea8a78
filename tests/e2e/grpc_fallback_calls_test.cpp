// The gRPC fallback serves the node methods as QUIC does: the same
// scenarios over both give the same frames, byte for byte, and the CLI
// falls back to gRPC only when asked, and never for a publish.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "grpc_fallback_fixture.hpp"
#include "palyra/runtime/protocol.hpp"

namespace palyra::e2e {
namespace {

using ::testing::HasSubstr;

TEST_F(GrpcFallbackTest, SameMethodsSameFramesAsQuic) {
  ASSERT_TRUE(start_daemon());
  ASSERT_NE(grpc_address_, "off");
  auto grpc_stub = stub();
  pb::NodeResponse response;
  auto status = health(*grpc_stub, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(*fallback::to_response_frame(response), runtime::encode_health(true));

  // Publish alternately over both transports: one journal, one sequence.
  auto quic = connect_device();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        publish(*grpc_stub, "over.grpc", R"({"i":)" + std::to_string(i) + "}", &response).ok());
    EXPECT_EQ(response.kind(), "published");
    EXPECT_EQ(response.seq(), static_cast<std::uint64_t>(2 * i + 1));
    EXPECT_EQ(call(*quic, runtime::encode_publish_request("over.quic", "[1.5,null]")),
              std::vector<std::string>{runtime::encode_published(2 * i + 2)});
  }
  // The same journal read over both, whole and resumed: identical bytes.
  auto over_quic = call(*quic, runtime::encode_stream_events_request(std::nullopt, false));
  ASSERT_EQ(over_quic.size(), 6u);
  EXPECT_EQ(stream_frames(*grpc_stub, std::nullopt), over_quic);
  EXPECT_EQ(stream_frames(*grpc_stub, 4),
            call(*quic, runtime::encode_stream_events_request(4, false)));
  EXPECT_THAT(over_quic[0], HasSubstr(R"("device_id":"node-1")"));
}

TEST_F(GrpcFallbackTest, ProtocolErrorsAreTheDocumentedOnes) {
  ASSERT_TRUE(start_daemon());
  auto grpc_stub = stub();
  pb::NodeResponse response;
  ASSERT_TRUE(health(*grpc_stub, &response, 2).ok());
  EXPECT_EQ(*fallback::to_response_frame(response),
            runtime::encode_error(runtime::ProtocolError::ProtocolMismatch));
  ASSERT_TRUE(publish(*grpc_stub, "", "1", &response).ok());
  EXPECT_EQ(response.error(), "invalid_params");
  ASSERT_TRUE(publish(*grpc_stub, "x", "{not json", &response).ok());
  EXPECT_EQ(response.error(), "invalid_params");
  ASSERT_TRUE(publish(*grpc_stub, "x", "1", &response, "").ok());
  EXPECT_EQ(response.error(), "invalid_params");
  ASSERT_TRUE(publish(*grpc_stub, "x", "1", &response, std::string(65, 'i')).ok());
  EXPECT_EQ(response.error(), "invalid_params");
}

// PublishEventRequest.id is params.id: one deduplication index whichever
// transport carries the publish.
TEST_F(GrpcFallbackTest, APublishIdIsTheSameIdOverBothTransports) {
  ASSERT_TRUE(start_daemon());
  auto grpc_stub = stub();
  pb::NodeResponse response;
  ASSERT_TRUE(publish(*grpc_stub, "order", "1", &response, "order-17").ok());
  EXPECT_EQ(response.kind(), "published");
  EXPECT_EQ(response.seq(), 1u);
  ASSERT_TRUE(publish(*grpc_stub, "order", "1", &response, "order-17").ok());
  EXPECT_EQ(response.seq(), 1u);
  auto quic = connect_device();
  EXPECT_EQ(call(*quic, runtime::encode_publish_request("order", "1", "order-17")),
            std::vector<std::string>{runtime::encode_published(1)});
  ASSERT_TRUE(publish(*grpc_stub, "order", "1", &response).ok());  // no id: appended
  EXPECT_EQ(response.seq(), 2u);
}

TEST_F(GrpcFallbackTest, ServesAloneWhenQuicIsDisabled) {
  ASSERT_TRUE(start_daemon({"--quic-enabled", "false"}));
  EXPECT_EQ(address_, "off");
  pb::NodeResponse response;
  ASSERT_TRUE(publish(*stub(), "grpc.only", "true", &response).ok());
  EXPECT_EQ(response.seq(), 1u);
  EXPECT_EQ(stream_frames(*stub(), std::nullopt).size(), 1u);
  EXPECT_EQ(stop_daemon(), 0);
}

TEST_F(GrpcFallbackTest, InsecureModeAppliesToGrpcToo) {
  ASSERT_TRUE(start_daemon({"--require-client-auth", "false"}));
  pb::NodeResponse response;
  auto status = health(*stub(""), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(*fallback::to_response_frame(response), runtime::encode_health(false));
}

// UDP blocked (QUIC off, its port silent): read calls fall back only when
// asked, say so, and print exactly what they print over QUIC; publish never
// falls back.
TEST_F(GrpcFallbackTest, CliFallsBackExplicitlyAndNeverForPublish) {
  ASSERT_TRUE(start_daemon());
  const std::string quic_address = address_;
  for (int i = 0; i < 4; ++i) ASSERT_EQ(palyra({"publish", "e", std::to_string(i)}).status, 0);
  auto quic_events = palyra({"events", "--resume-from", "1"});
  ASSERT_EQ(quic_events.status, 0) << quic_events.err;
  auto quic_health = palyra({"health"});
  ASSERT_EQ(stop_daemon(), 0);

  ASSERT_TRUE(start_daemon({"--quic-enabled", "false"}));
  address_ = quic_address;  // clients still try QUIC first, where nothing answers
  const std::vector<std::string> fallback = {"--timeout", "1000",           "--fallback",
                                             "tcp",       "--grpc-connect", grpc_address_};
  auto events_args = std::vector<std::string>{"events", "--resume-from", "1"};
  events_args.insert(events_args.end(), fallback.begin(), fallback.end());
  auto events = palyra(events_args);
  EXPECT_EQ(events.status, 0) << events.err;
  EXPECT_EQ(events.out, quic_events.out);
  EXPECT_THAT(events.err, HasSubstr("falling back to gRPC over TCP"));
  EXPECT_THAT(events.err, HasSubstr("HandshakeTimeout"));

  auto health_args = std::vector<std::string>{"health"};
  health_args.insert(health_args.end(), fallback.begin(), fallback.end());
  auto health = palyra(health_args);
  EXPECT_EQ(health.status, 0) << health.err;
  EXPECT_EQ(health.out, quic_health.out);

  auto no_fallback = palyra({"health", "--timeout", "1000"});
  EXPECT_EQ(no_fallback.status, 1);
  EXPECT_THAT(no_fallback.err, HasSubstr("HandshakeTimeout"));
  EXPECT_THAT(no_fallback.err, ::testing::Not(HasSubstr("falling back")));

  auto publish_args = std::vector<std::string>{"publish", "must.not.downgrade"};
  publish_args.insert(publish_args.end(), fallback.begin(), fallback.end());
  auto refused = palyra(publish_args);
  EXPECT_EQ(refused.status, 1);
  EXPECT_THAT(refused.err, HasSubstr("HandshakeTimeout"));
  EXPECT_THAT(refused.err, ::testing::Not(HasSubstr("falling back")));

  auto fingerprint = std::string(64, 'b');
  auto pinned_args = health_args;
  pinned_args.insert(pinned_args.end(), {"--pin-sha256", fingerprint});
  auto wrong_pin = palyra(pinned_args);
  EXPECT_EQ(wrong_pin.status, 1);
  EXPECT_THAT(wrong_pin.err, HasSubstr("pin mismatch"));
}

}  // namespace
}  // namespace palyra::e2e
