// The fixture of the gRPC fallback's end-to-end tests: a real palyrad (see
// daemon_fixture.hpp) reached through a plain gRPC client generated from
// proto/palyra/node/v1/node_transport.proto — what any gRPC client in any
// language would do — with helpers for each NodeTransport method.
#pragma once

#include <grpcpp/grpcpp.h>

#include <optional>

#include "daemon_fixture.hpp"
#include "palyra/common/atomic_file.hpp"
#include "palyra/fallback/mapping.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/node/v1/node_transport.grpc.pb.h"

namespace palyra::e2e {

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
                              const std::string& payload, pb::NodeResponse* response,
                              const std::optional<std::string>& id = std::nullopt) {
    pb::PublishEventRequest request;
    request.set_protocol_version(1);
    request.set_name(name);
    request.set_payload_json(payload);
    if (id) request.set_id(*id);
    auto ctx = context();
    return stub.PublishEvent(ctx.get(), request, response);
  }
};

}  // namespace palyra::e2e
