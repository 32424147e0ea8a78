// Who the gRPC fallback lets in: client certificates refused in the
// handshake (missing, foreign, expired, revoked) and calls refused on a
// connection opened before a revocation — one authorisation, applied at
// both points — and the server certificate replaced under a running daemon.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "grpc_fallback_fixture.hpp"
#include "palyra/identity/ca.hpp"
#include "palyra/runtime/protocol.hpp"

namespace palyra::e2e {
namespace {

using ::testing::HasSubstr;

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
  // it is authorised again (PeerAuthorizer, per call), and refused.
  auto on_live_connection = health(*follower_stub, &response);
  EXPECT_EQ(on_live_connection.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << on_live_connection.error_message();
  EXPECT_EQ(on_live_connection.error_message(), "client certificate revoked");
  // A new connection does not get past the handshake (the same PeerAuthorizer).
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
