// palyra.node.v1.NodeTransport on gRPC's callback API: each call is
// authorised (PeerAuthorizer, the same decision the handshake made, taken
// again against the current revocation index), turned into the request
// frame a QUIC client would have sent, and posted to the event loop's
// runtime::NodeService with a sink that turns response frames back into
// NodeResponses. gRPC's threads run only this translation; the handlers run
// on the loop.
#pragma once

#include <memory>
#include <string>

#include "palyra/fallback/grpc_frontend.hpp"
#include "palyra/node/v1/node_transport.grpc.pb.h"
#include "peer_authorization.hpp"

namespace palyra::fallback {

class NodeTransportService final : public node::v1::NodeTransport::CallbackService {
 public:
  // `loop` and `service` must outlive the service.
  NodeTransportService(transport::EventLoop& loop, runtime::NodeService& service,
                       std::shared_ptr<const PeerAuthorizer> authorizer,
                       std::shared_ptr<GrpcFrontend::CallRegistry> registry);

  grpc::ServerUnaryReactor* Health(grpc::CallbackServerContext* context,
                                   const node::v1::HealthRequest* request,
                                   node::v1::NodeResponse* response) override;
  grpc::ServerUnaryReactor* PublishEvent(grpc::CallbackServerContext* context,
                                         const node::v1::PublishEventRequest* request,
                                         node::v1::NodeResponse* response) override;
  grpc::ServerWriteReactor<node::v1::NodeResponse>* StreamEvents(
      grpc::CallbackServerContext* context, const node::v1::StreamEventsRequest* request) override;
  grpc::ServerUnaryReactor* RenewCertificate(grpc::CallbackServerContext* context,
                                             const node::v1::RenewCertificateRequest* request,
                                             node::v1::NodeResponse* response) override;
  grpc::ServerUnaryReactor* Enroll(grpc::CallbackServerContext* context,
                                   const node::v1::EnrollRequest* request,
                                   node::v1::NodeResponse* response) override;

 private:
  grpc::ServerUnaryReactor* unary(grpc::CallbackServerContext* context, std::string frame,
                                  node::v1::NodeResponse* response);
  void dispatch(std::string frame, runtime::Caller caller, std::shared_ptr<runtime::CallSink> sink);

  transport::EventLoop& loop_;
  runtime::NodeService& service_;
  std::shared_ptr<const PeerAuthorizer> authorizer_;
  std::shared_ptr<GrpcFrontend::CallRegistry> registry_;
};

}  // namespace palyra::fallback
