// The gRPC fallback of a real palyrad, through a plain gRPC client generated
// from proto/palyra/node/v1/node_transport.proto — what any gRPC client in
// any language would do. The same scenarios run over QUIC and must give the
// same frames, byte for byte.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon_fixture.hpp"
#include "palyra/common/atomic_file.hpp"
#include "palyra/fallback/mapping.hpp"
#include "palyra/identity/ca.hpp"
#include "palyra/node/v1/node_transport.grpc.pb.h"
#include "palyra/runtime/protocol.hpp"

namespace palyra::e2e {
namespace {

using ::testing::HasSubstr;
namespace pb = palyra::node::v1;

class GrpcFallbackTest : public DaemonTest {
 protected:
  // A gRPC stub presenting `device`'s certificate (none when empty).
  std::unique_ptr<pb::NodeTransport::Stub> stub(const std::string& device = "node-1",
                                                const identity::StateDir* other = nullptr) {
    const identity::StateDir& dir = other ? *other : state_;
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = *read_file(state_.ca_cert());
    if (!device.empty()) {
      options.pem_cert_chain = *read_file(dir.device_cert(device));
      options.pem_private_key = *read_file(dir.device_key(device));
    }
    grpc::ChannelArguments arguments;
    arguments.SetSslTargetNameOverride("localhost");
    auto channel = grpc::CreateCustomChannel(grpc_address_, grpc::SslCredentials(options), arguments);
    return pb::NodeTransport::NewStub(channel);
  }
  static std::unique_ptr<grpc::ClientContext> context() {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return c;
  }
  // Every response of StreamEvents as the frame QUIC would have carried.
  static std::vector<std::string> stream_frames(pb::NodeTransport::Stub& stub,
                                                std::optional<std::uint64_t> resume_from,
                                                grpc::Status* status = nullptr) {
    pb::StreamEventsRequest request;
    request.set_protocol_version(1);
    if (resume_from) request.set_resume_from(*resume_from);
    auto ctx = context();
    auto reader = stub.StreamEvents(ctx.get(), request);
    std::vector<std::string> frames;
    pb::NodeResponse response;
    while (reader->Read(&response)) frames.push_back(*fallback::to_response_frame(response));
    auto finished = reader->Finish();
    if (status) *status = finished;
    return frames;
  }
  static grpc::Status health(pb::NodeTransport::Stub& stub, pb::NodeResponse* response,
                             std::uint32_t protocol_version = 1) {
    pb::HealthRequest request;
    request.set_protocol_version(protocol_version);
    auto ctx = context();
    return stub.Health(ctx.get(), request, response);
  }
  static grpc::Status publish(pb::NodeTransport::Stub& stub, const std::string& name,
                              const std::string& payload, pb::NodeResponse* response) {
    pb::PublishEventRequest request;
    request.set_protocol_version(1);
    request.set_name(name);
    request.set_payload_json(payload);
    auto ctx = context();
    return stub.PublishEvent(ctx.get(), request, response);
  }
};

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
    ASSERT_TRUE(publish(*grpc_stub, "over.grpc", R"({"i":)" + std::to_string(i) + "}", &response).ok());
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
}

TEST_F(GrpcFallbackTest, RefusesMissingForeignAndRevokedCertificates) {
  ASSERT_TRUE(start_daemon());
  pb::NodeResponse response;
  EXPECT_FALSE(health(*stub(""), &response).ok());
  identity::StateDir other{dir_ / "other"};
  ASSERT_EQ(palyra({"init", "--state-dir", other.root.string()}, false).status, 0);
  EXPECT_FALSE(health(*stub("node-1", &other), &response).ok());
  // Revoked while following: the stream ends, and the next call is refused.
  auto follower_stub = stub();
  pb::StreamEventsRequest follow;
  follow.set_protocol_version(1);
  follow.set_follow(true);
  grpc::ClientContext follow_ctx;
  auto reader = follower_stub->StreamEvents(&follow_ctx, follow);
  ASSERT_TRUE(publish(*stub(), "before", "1", &response).ok());
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.seq(), 1u);
  ASSERT_EQ(palyra({"cert", "revoke", "--state-dir", state_.root.string(), "--device", "node-1"},
                   false)
                .status,
            0);
  daemon_->signal(SIGHUP);
  EXPECT_FALSE(reader->Read(&response));  // cancelled by the daemon
  EXPECT_FALSE(reader->Finish().ok());
  EXPECT_FALSE(health(*stub(), &response).ok());
  EXPECT_THAT(log(), HasSubstr("revoked"));
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

TEST_F(GrpcFallbackTest, RefusesAnExpiredDeviceCertificate) {
  auto ca = identity::CertificateAuthority::load(state_.ca_cert(), state_.ca_key());
  ASSERT_TRUE(ca);
  const auto now = std::chrono::system_clock::now();
  auto expired = ca->issue(identity::IssueRequest{
      "Palyra Device stale", "Palyra", {}, {}, {identity::KeyPurpose::ClientAuth},
      now - std::chrono::hours(48), now - std::chrono::hours(24)});
  ASSERT_TRUE(expired);
  ASSERT_TRUE(ensure_private_directory(state_.device_dir("stale")));
  ASSERT_TRUE(write_file_atomically(state_.device_cert("stale"), expired->certificate.pem(), 0644));
  ASSERT_TRUE(write_file_atomically(state_.device_key("stale"), expired->key.pem(), 0600));
  ASSERT_TRUE(start_daemon());
  pb::NodeResponse response;
  EXPECT_FALSE(health(*stub("stale"), &response).ok());
  EXPECT_TRUE(health(*stub("node-1"), &response).ok());
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
  const std::vector<std::string> fallback = {"--timeout", "1000", "--fallback", "tcp",
                                             "--grpc-connect", grpc_address_};
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
