// The gRPC fallback of a real palyrad, through a plain gRPC client generated
// from proto/palyra/node/v1/node_transport.proto — what any gRPC client in
// any language would do. The same scenarios run over QUIC and must give the
// same frames, byte for byte. Enrollment and renewal (PROTOCOL.md §7) over
// both listeners, and the server certificate replaced under a running daemon.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "daemon_fixture.hpp"
#include "palyra/common/atomic_file.hpp"
#include "palyra/fallback/enrollment_channel.hpp"
#include "palyra/fallback/mapping.hpp"
#include "palyra/identity/ca.hpp"
#include "palyra/identity/ca_hash_check.hpp"
#include "palyra/identity/csr.hpp"
#include "palyra/node/v1/node_transport.grpc.pb.h"
#include "palyra/runtime/protocol.hpp"

namespace palyra::e2e {
namespace {

using ::testing::HasSubstr;
namespace pb = palyra::node::v1;

class GrpcFallbackTest : public DaemonTest {
 protected:
  // A stub to `address` that checks the daemon's certificate against our CA
  // and presents `device`'s certificate (none when empty).
  std::unique_ptr<pb::NodeTransport::Stub> stub_to(const std::string& address,
                                                   const std::string& device) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = *read_file(state_.ca_cert());
    if (!device.empty()) {
      options.pem_cert_chain = *read_file(state_.device_cert(device));
      options.pem_private_key = *read_file(state_.device_key(device));
    }
    grpc::ChannelArguments arguments;
    arguments.SetSslTargetNameOverride("localhost");
    // A fresh connection (and handshake) per stub, not one shared with an
    // earlier channel to the same address.
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return pb::NodeTransport::NewStub(
        grpc::CreateCustomChannel(address, grpc::SslCredentials(options), arguments));
  }
  std::string ca_spki_sha256() const {
    return identity::Certificate::from_pem_file(state_.ca_cert())->spki_sha256();
  }
  // `palyra token create` on the daemon's state directory: the token's text.
  std::string create_token() {
    auto created =
        palyra({"token", "create", "--state-dir", state_.root.string(), "--json"}, false);
    EXPECT_EQ(created.status, 0) << created.err;
    auto at = created.out.find(R"("token":")");
    if (at == std::string::npos) return {};
    at += 9;
    return created.out.substr(at, created.out.find('"', at) - at);
  }
  static grpc::Status enroll(pb::NodeTransport::Stub& stub, const std::string& token,
                             const std::string& csr, pb::NodeResponse* response) {
    pb::EnrollRequest request;
    request.set_protocol_version(1);
    request.set_token(token);
    request.set_csr(csr);
    auto ctx = context();
    return stub.Enroll(ctx.get(), request, response);
  }
  static grpc::Status renew(pb::NodeTransport::Stub& stub, const std::string& csr,
                            pb::NodeResponse* response) {
    pb::RenewCertificateRequest request;
    request.set_protocol_version(1);
    request.set_csr(csr);
    auto ctx = context();
    return stub.RenewCertificate(ctx.get(), request, response);
  }
  // Health on the node port with `certificate` and `key`: the daemon checks
  // the chain against its CA in the handshake.
  grpc::Status health_as(const std::string& certificate, const std::string& key) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = *read_file(state_.ca_cert());
    options.pem_cert_chain = certificate;
    options.pem_private_key = key;
    grpc::ChannelArguments arguments;
    arguments.SetSslTargetNameOverride("localhost");
    auto stub = pb::NodeTransport::NewStub(
        grpc::CreateCustomChannel(grpc_address_, grpc::SslCredentials(options), arguments));
    pb::NodeResponse response;
    return health(*stub, &response);
  }

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
    auto channel =
        grpc::CreateCustomChannel(grpc_address_, grpc::SslCredentials(options), arguments);
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
}

// Refusals in the handshake leave the channel without a connection
// (UNAVAILABLE); refusals of a call on a live connection are UNAUTHENTICATED.
TEST_F(GrpcFallbackTest, RefusesMissingForeignAndRevokedCertificates) {
  ASSERT_TRUE(start_daemon());
  pb::NodeResponse response;
  auto missing = health(*stub_to(grpc_address_, ""), &response);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAVAILABLE) << missing.error_message();
  identity::StateDir other{dir_ / "other"};
  ASSERT_EQ(palyra({"init", "--state-dir", other.root.string()}, false).status, 0);
  auto foreign = health(*stub("node-1", &other), &response);
  EXPECT_EQ(foreign.error_code(), grpc::StatusCode::UNAVAILABLE) << foreign.error_message();
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
  ASSERT_EQ(
      palyra({"cert", "revoke", "--state-dir", state_.root.string(), "--device", "node-1"}, false)
          .status,
      0);
  daemon_->signal(SIGHUP);
  EXPECT_FALSE(reader->Read(&response));  // cancelled by the daemon
  auto ended = reader->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::CANCELLED) << ended.error_message();
  // The connection opened before the revocation is still up: each call on
  // it is checked again (authorize()), and refused.
  auto on_live_connection = health(*follower_stub, &response);
  EXPECT_EQ(on_live_connection.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << on_live_connection.error_message();
  EXPECT_EQ(on_live_connection.error_message(), "client certificate revoked");
  // A new connection does not get past the handshake (RevocationVerifier).
  auto on_new_connection = health(*stub_to(grpc_address_, "node-1"), &response);
  EXPECT_EQ(on_new_connection.error_code(), grpc::StatusCode::UNAVAILABLE)
      << on_new_connection.error_message();
  EXPECT_THAT(log(), HasSubstr("grpc connection refused reason=\"revoked client certificate"));
}

// The handshake's own revocation check, apart from the per-call one: a
// certificate revoked before it ever connected gets no connection at all
// (UNAVAILABLE, and the daemon logs the refused handshake). Were the
// handshake to let it through, the per-call check would still refuse, but
// as a call: UNAUTHENTICATED "client certificate revoked".
TEST_F(GrpcFallbackTest, RevokedCertificateIsRefusedInTheHandshakeNotOnlyByTheCall) {
  ASSERT_EQ(palyra({"cert", "device", "--state-dir", state_.root.string(), "node-2"}, false).status,
            0);
  ASSERT_EQ(
      palyra({"cert", "revoke", "--state-dir", state_.root.string(), "--device", "node-2"}, false)
          .status,
      0);
  ASSERT_TRUE(start_daemon());
  pb::NodeResponse response;
  auto unary = health(*stub_to(grpc_address_, "node-2"), &response);
  EXPECT_EQ(unary.error_code(), grpc::StatusCode::UNAVAILABLE) << unary.error_message();
  grpc::Status streamed;
  EXPECT_TRUE(stream_frames(*stub_to(grpc_address_, "node-2"), std::nullopt, &streamed).empty());
  EXPECT_EQ(streamed.error_code(), grpc::StatusCode::UNAVAILABLE) << streamed.error_message();
  EXPECT_THAT(log(), HasSubstr("grpc connection refused reason=\"revoked client certificate"));
  EXPECT_THAT(log(), HasSubstr("(device 'node-2')"));
  // The same listener serves a device in good standing.
  auto served = health(*stub_to(grpc_address_, "node-1"), &response);
  EXPECT_TRUE(served.ok()) << served.error_message();
  EXPECT_EQ(*fallback::to_response_frame(response), runtime::encode_health(true));
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
  auto expired = ca->issue(identity::IssueRequest{"Palyra Device stale",
                                                  "Palyra",
                                                  {},
                                                  {},
                                                  {identity::KeyPurpose::ClientAuth},
                                                  now - std::chrono::hours(48),
                                                  now - std::chrono::hours(24)});
  ASSERT_TRUE(expired);
  ASSERT_TRUE(ensure_private_directory(state_.device_dir("stale")));
  ASSERT_TRUE(write_file_atomically(state_.device_cert("stale"), expired->certificate.pem(), 0644));
  ASSERT_TRUE(write_file_atomically(state_.device_key("stale"), expired->key.pem(), 0600));
  ASSERT_TRUE(start_daemon());
  pb::NodeResponse response;
  auto stale = health(*stub("stale"), &response);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::UNAVAILABLE) << stale.error_message();
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

TEST_F(GrpcFallbackTest, RenewCertificateOverGrpcGivesACertificateThatChainsToTheCa) {
  ASSERT_TRUE(start_daemon());
  auto key = identity::PrivateKey::generate();
  ASSERT_TRUE(key);
  auto csr = identity::make_csr_pem(*key, "someone-else");  // the subject is ignored
  ASSERT_TRUE(csr);
  pb::NodeResponse response;
  auto status = renew(*stub(), *csr, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.kind(), "certificate") << response.error();
  EXPECT_TRUE(response.ok());
  EXPECT_FALSE(response.has_device_id());
  EXPECT_EQ(*fallback::to_response_frame(response),
            runtime::encode_certificate(response.certificate(), response.ca()));
  auto issued = identity::Certificate::from_pem(response.certificate());
  ASSERT_TRUE(issued) << issued.error().describe();
  EXPECT_EQ(issued->device_id(), "node-1");
  EXPECT_EQ(*identity::certificate_key_id(*issued), key->key_id());
  EXPECT_THAT(response.ca(),
              HasSubstr(identity::Certificate::from_pem_file(state_.ca_cert())->pem()));
  // The daemon takes it on the node port: it chains to the gateway CA.
  status = health_as(response.certificate(), key->pem());
  EXPECT_TRUE(status.ok()) << status.error_message();

  // A bad CSR is the method's own refusal, as over QUIC.
  ASSERT_TRUE(renew(*stub(), "not a CSR", &response).ok());
  EXPECT_EQ(*fallback::to_response_frame(response),
            runtime::encode_error(runtime::ProtocolError::InvalidParams));
}

TEST_F(GrpcFallbackTest, EnrollmentListenerServesEnrollOnlyAndNodeListenerNeverEnrolls) {
  ASSERT_TRUE(start_daemon());
  ASSERT_NE(grpc_enroll_address_, grpc_address_);
  auto anonymous = stub_to(grpc_enroll_address_, "");
  pb::NodeResponse response;
  // Every other method: UNAUTHENTICATED, no data.
  auto status = health(*anonymous, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  EXPECT_EQ(status.error_message(), "a client certificate is required");
  status = publish(*anonymous, "sneaky", "1", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  status = renew(*anonymous, "x", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status stream_status;
  EXPECT_TRUE(stream_frames(*anonymous, std::nullopt, &stream_status).empty());
  EXPECT_EQ(stream_status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // A client certificate is not even asked for there: one offered is unused.
  status = health(*stub_to(grpc_enroll_address_, "node-1"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // The node port still wants a certificate in the handshake: without one
  // there is no connection at all (UNAVAILABLE), not a refused call.
  status = health(*stub_to(grpc_address_, ""), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  status = enroll(*stub_to(grpc_address_, ""), "00000000.x", "x", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  // Enroll with a certificate (so on the node port): unsupported_method, as
  // node.enroll is on QUIC's palyra-quic-v1 ALPN.
  status = enroll(*stub(), create_token(), "x", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(*fallback::to_response_frame(response),
            runtime::encode_error(runtime::ProtocolError::UnsupportedMethod));
  EXPECT_EQ(
      call(*connect_device(), runtime::encode_enroll_request("00000000.x", "x", std::nullopt)),
      std::vector<std::string>{*fallback::to_response_frame(response)});
  EXPECT_THAT(log(), ::testing::Not(HasSubstr("enrollment accepted")));
}

TEST_F(GrpcFallbackTest, EnrollOverGrpcWithATokenGivesAWorkingCertificate) {
  ASSERT_TRUE(start_daemon());
  const std::string token = create_token();
  ASSERT_EQ(std::count(token.begin(), token.end(), '.'), 2) << token;
  const std::string presented = token.substr(0, token.rfind('.'));
  auto key = identity::PrivateKey::generate();
  ASSERT_TRUE(key);
  auto csr = identity::make_csr_pem(*key, "grpc-node");
  ASSERT_TRUE(csr);
  // The way `palyra enroll` connects: no CA file, only the token's CA hash.
  auto refusal = std::make_shared<fallback::HandshakeRefusal>();
  grpc::ChannelArguments arguments;
  arguments.SetSslTargetNameOverride("localhost");
  auto enrolling = pb::NodeTransport::NewStub(grpc::CreateCustomChannel(
      grpc_enroll_address_,
      fallback::enrollment_channel_credentials(ca_spki_sha256(), "localhost", refusal), arguments));
  pb::EnrollRequest request;
  request.set_protocol_version(1);
  request.set_token(presented);
  request.set_csr(*csr);
  request.set_device_id("grpc-node");
  pb::NodeResponse response;
  auto ctx = context();
  auto status = enrolling->Enroll(ctx.get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message() << " "
                           << (refusal->get() ? refusal->get()->describe() : "");
  ASSERT_EQ(response.kind(), "enrolled") << response.error() << "\n" << log();
  EXPECT_EQ(response.device_id(), "grpc-node");
  EXPECT_EQ(*fallback::to_response_frame(response),
            runtime::encode_enrolled("grpc-node", response.certificate(), response.ca()));
  auto issued = identity::Certificate::from_pem(response.certificate());
  ASSERT_TRUE(issued);
  EXPECT_EQ(issued->device_id(), "grpc-node");
  status = health_as(response.certificate(), key->pem());
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(log(), HasSubstr("enrollment accepted"));

  // The token had one use.
  ctx = context();
  status = enrolling->Enroll(ctx.get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(*fallback::to_response_frame(response),
            runtime::encode_error(runtime::ProtocolError::EnrollRefused));
}

// `palyra enroll` with UDP blocked: over the enrollment listener, through
// GrpcNodeConnection; and a token naming another CA is refused by the
// client before it sends anything.
TEST_F(GrpcFallbackTest, CliEnrollsOverGrpcAndRefusesAnotherCaBeforeSending) {
  ASSERT_TRUE(start_daemon({"--quic-enabled", "false"}));
  // A UDP port where nothing answers: QUIC times out, the fallback is used.
  // The timeout also bounds the gRPC call (an enrollment signs and fsyncs):
  // 3 s leaves room under sanitizers on a loaded machine.
  int silent = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(silent, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&local), sizeof(local)), 0);
  socklen_t length = sizeof(local);
  ASSERT_EQ(::getsockname(silent, reinterpret_cast<sockaddr*>(&local), &length), 0);
  const std::string quic_address = "127.0.0.1:" + std::to_string(ntohs(local.sin_port));

  const std::string token = create_token();
  const std::string wrong_hash(64, 'a');
  const std::string wrong = token.substr(0, token.rfind('.') + 1) + wrong_hash;
  const identity::StateDir node{dir_ / "node"};
  auto enroll_cli = [&](const std::string& text) {
    return run({PALYRA_CLI_BINARY, "enroll", text, "--state-dir", node.root.string(), "--connect",
                quic_address, "--timeout", "3000", "--fallback", "tcp", "--grpc-connect",
                grpc_enroll_address_, "--device", "cli-node"});
  };
  auto refused = enroll_cli(wrong);
  EXPECT_EQ(refused.status, 1);
  EXPECT_THAT(refused.err, HasSubstr("falling back to gRPC over TCP"));
  EXPECT_THAT(refused.err, HasSubstr("refused before sending anything"));
  EXPECT_THAT(refused.err, HasSubstr(wrong_hash));
  EXPECT_THAT(refused.err, HasSubstr(ca_spki_sha256()));
  EXPECT_THAT(refused.err, HasSubstr("PinnedCertificateMismatch"));
  EXPECT_THAT(log(), ::testing::Not(HasSubstr("enrollment")));

  auto enrolled = enroll_cli(token);
  ::close(silent);
  ASSERT_EQ(enrolled.status, 0) << enrolled.err << "\n" << log();
  EXPECT_THAT(enrolled.out, HasSubstr("enrolled as device 'cli-node'"));
  EXPECT_THAT(log(), HasSubstr("enrollment accepted"));
}

// The check the enrolling gRPC client runs on the server's chain, case by
// case, on the chains `palyra init` made.
TEST_F(GrpcFallbackTest, ChainCheckAgainstCaHashRefusesWhatQuicRefuses) {
  const std::string chain = *read_file(state_.server_chain());
  const std::string hash = ca_spki_sha256();
  EXPECT_TRUE(identity::verify_chain_against_ca_hash(chain, hash, "localhost"));
  EXPECT_TRUE(identity::verify_chain_against_ca_hash(chain, hash, "127.0.0.1"));
  EXPECT_TRUE(
      identity::verify_chain_against_ca_hash(chain, "  " + std::string(hash) + "\n", "localhost"));

  auto other = identity::verify_chain_against_ca_hash(chain, std::string(64, 'c'), "localhost");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), Errc::PinnedCertificateMismatch);
  EXPECT_THAT(other.error().message(), HasSubstr(hash));
  EXPECT_THAT(other.error().message(), HasSubstr(std::string(64, 'c')));

  auto wrong_name = identity::verify_chain_against_ca_hash(chain, hash, "elsewhere.example");
  ASSERT_FALSE(wrong_name);
  EXPECT_EQ(wrong_name.error().code(), Errc::ConnectFailed);

  const std::string leaf_only = identity::Certificate::from_pem_file(state_.server_chain())->pem();
  auto alone = identity::verify_chain_against_ca_hash(leaf_only, hash, "localhost");
  ASSERT_FALSE(alone);
  EXPECT_EQ(alone.error().code(), Errc::PinnedCertificateMismatch);
  EXPECT_THAT(alone.error().message(), HasSubstr("no CA certificate"));

  // A device certificate (clientAuth only) is no server, even from our CA.
  const std::string device_chain =
      *read_file(state_.device_cert("node-1")) + *read_file(state_.ca_cert());
  auto device = identity::verify_chain_against_ca_hash(device_chain, hash, "localhost");
  ASSERT_FALSE(device);
  EXPECT_EQ(device.error().code(), Errc::ConnectFailed);

  EXPECT_EQ(identity::verify_chain_against_ca_hash("junk", hash, "localhost").error().code(),
            Errc::CertificateParsingFailed);
  EXPECT_EQ(identity::verify_chain_against_ca_hash(chain, "xyz", "localhost").error().code(),
            Errc::TlsConfigurationFailed);
}

// The server certificate replaced on disk: new gRPC handshakes present the
// new one without a restart.
TEST_F(GrpcFallbackTest, ReplacedServerCertificateServesNewHandshakes) {
  ASSERT_TRUE(start_daemon());
  auto ca = identity::CertificateAuthority::load(state_.ca_cert(), state_.ca_key());
  ASSERT_TRUE(ca);
  auto presented = [this]() -> std::string {
    auto probe = stub_to(grpc_address_, "node-1");
    auto ctx = context();
    pb::HealthRequest request;
    request.set_protocol_version(1);
    pb::NodeResponse response;
    if (!probe->Health(ctx.get(), request, &response).ok()) return "(call failed)";
    auto pems = ctx->auth_context()->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
    if (pems.empty()) return "(none)";
    return identity::Certificate::from_pem(std::string_view(pems[0].data(), pems[0].size()))
        ->fingerprint();
  };
  const std::string before = presented();
  ASSERT_EQ(before, identity::Certificate::from_pem_file(state_.server_chain())->fingerprint());
  auto issued =
      ca->issue_server(identity::ServerCertificateRequest{"localhost", {}, {"127.0.0.1"}});
  ASSERT_TRUE(issued);
  const std::string chain = issued->certificate.pem() + *read_file(state_.ca_cert());
  ASSERT_TRUE(write_file_atomically(state_.server_key(), issued->key.pem(), 0600));
  ASSERT_TRUE(write_file_atomically(state_.server_chain(), chain, 0644));
  std::string after = before;
  for (int i = 0; i < 50 && after != issued->certificate.fingerprint(); ++i) {
    std::this_thread::sleep_for(100ms);
    after = presented();
  }
  EXPECT_EQ(after, issued->certificate.fingerprint()) << log();
}

}  // namespace
}  // namespace palyra::e2e
