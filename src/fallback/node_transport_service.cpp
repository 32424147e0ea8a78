// The NodeTransport methods: authorise, translate, post to the loop (see
// node_transport_service.hpp).
#include "node_transport_service.hpp"

#include "call_peer.hpp"
#include "event_stream_call.hpp"
#include "palyra/fallback/mapping.hpp"
#include "palyra/transport/io/event_loop.hpp"
#include "unary_sink.hpp"

namespace palyra::fallback {
namespace {

using node::v1::NodeResponse;

// A stream that only reports its caller's refusal.
class RefusedStream final : public grpc::ServerWriteReactor<NodeResponse> {
 public:
  explicit RefusedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

NodeTransportService::NodeTransportService(transport::EventLoop& loop,
                                           runtime::NodeService& service,
                                           std::shared_ptr<const PeerAuthorizer> authorizer,
                                           std::shared_ptr<GrpcFrontend::CallRegistry> registry)
    : loop_(loop),
      service_(service),
      authorizer_(std::move(authorizer)),
      registry_(std::move(registry)) {}

grpc::ServerUnaryReactor* NodeTransportService::Health(grpc::CallbackServerContext* context,
                                                       const node::v1::HealthRequest* request,
                                                       NodeResponse* response) {
  return unary(context, request_frame(*request), response);
}

grpc::ServerUnaryReactor* NodeTransportService::PublishEvent(
    grpc::CallbackServerContext* context, const node::v1::PublishEventRequest* request,
    NodeResponse* response) {
  if (is_valid_json(request->payload_json())) {
    return unary(context, request_frame(*request), response);
  }
  // The JSON request would carry the payload as a value; as text it must
  // parse, or the params do not fit the method. Refused callers still get
  // their refusal, not invalid_params.
  auto* reactor = context->DefaultReactor();
  auto authorized = authorizer_->authorize(client_certificate_pem(*context));
  if (auto* refused = std::get_if<PeerRefusal>(&authorized)) {
    reactor->Finish(refusal_status(*refused));
    return reactor;
  }
  *response =
      std::move(to_response_message(runtime::encode_error(runtime::ProtocolError::InvalidParams)))
          .value();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<NodeResponse>* NodeTransportService::StreamEvents(
    grpc::CallbackServerContext* context, const node::v1::StreamEventsRequest* request) {
  auto authorized = authorizer_->authorize(client_certificate_pem(*context));
  if (auto* refused = std::get_if<PeerRefusal>(&authorized)) {
    return new RefusedStream(refusal_status(*refused));
  }
  auto& peer = std::get<AuthorizedPeer>(authorized);
  auto* call = new EventStreamCall(loop_, registry_, context, peer.fingerprint);
  dispatch(request_frame(*request), runtime::Caller{peer.device_id, peer_address(context->peer())},
           call->sink());
  return call;
}

// node.renew_certificate: like every node method, for the caller's
// certificate (authorised in unary()).
grpc::ServerUnaryReactor* NodeTransportService::RenewCertificate(
    grpc::CallbackServerContext* context, const node::v1::RenewCertificateRequest* request,
    NodeResponse* response) {
  return unary(context, request_frame(*request), response);
}

// node.enroll, for callers without a client certificate: those of the
// enrollment port (which requests none), or of the node port in insecure
// mode. A call with a certificate came in on the node port: it is handed on
// as a node call, and NodeService answers unsupported_method exactly as for
// node.enroll on QUIC's palyra-quic-v1 ALPN (after the usual authorisation,
// so a revoked certificate still gets UNAUTHENTICATED).
grpc::ServerUnaryReactor* NodeTransportService::Enroll(grpc::CallbackServerContext* context,
                                                       const node::v1::EnrollRequest* request,
                                                       NodeResponse* response) {
  if (!client_certificate_pem(*context).empty()) {
    return unary(context, request_frame(*request), response);
  }
  auto* reactor = context->DefaultReactor();
  dispatch(request_frame(*request), runtime::Caller{"", peer_address(context->peer()), true},
           std::make_shared<UnarySink>(reactor, response));
  return reactor;
}

// Every node call is authorised again against the current revocation
// index: a connection opened before a revocation gets no more data. A call
// without a certificate is refused unless in insecure mode, so every
// method but Enroll is refused on the enrollment port.
grpc::ServerUnaryReactor* NodeTransportService::unary(grpc::CallbackServerContext* context,
                                                      std::string frame, NodeResponse* response) {
  auto* reactor = context->DefaultReactor();
  auto authorized = authorizer_->authorize(client_certificate_pem(*context));
  if (auto* refused = std::get_if<PeerRefusal>(&authorized)) {
    reactor->Finish(refusal_status(*refused));
    return reactor;
  }
  dispatch(std::move(frame),
           runtime::Caller{std::get<AuthorizedPeer>(authorized).device_id,
                           peer_address(context->peer())},
           std::make_shared<UnarySink>(reactor, response));
  return reactor;
}

void NodeTransportService::dispatch(std::string frame, runtime::Caller caller,
                                    std::shared_ptr<runtime::CallSink> sink) {
  loop_.post(
      [&service = service_, frame = std::move(frame), caller = std::move(caller),
       sink = std::move(sink)]() mutable { service.handle(frame, caller, std::move(sink)); });
}

}  // namespace palyra::fallback
