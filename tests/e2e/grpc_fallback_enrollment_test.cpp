// Enrollment and renewal (PROTOCOL.md §7) over the gRPC fallback: the
// enrollment listener serves Enroll only and the node listener never
// enrolls; a token gives a working certificate, through a plain stub and
// through the CLI; the enrolling client checks the server's chain against
// the token's CA hash as QUIC's client does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grpc_fallback_fixture.hpp"
#include "palyra/fallback/enrollment_channel.hpp"
#include "palyra/identity/ca_hash_check.hpp"
#include "palyra/identity/csr.hpp"
#include "palyra/runtime/protocol.hpp"

namespace palyra::e2e {
namespace {

using ::testing::HasSubstr;

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

}  // namespace
}  // namespace palyra::e2e
