// The gRPC server's assembly and lifetime: two listening ports on one
// grpc::Server, the NodeTransport service, the registry of running streams
// that a revocation or a shutdown cancels. What each call does is in
// node_transport_service.cpp; who may call, in peer_authorization.cpp.
#include "palyra/fallback/grpc_frontend.hpp"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "call_counting.hpp"
#include "grpc_log.hpp"
#include "listener_credentials.hpp"
#include "node_transport_service.hpp"
#include "palyra/identity/revocation.hpp"
#include "peer_authorization.hpp"

namespace palyra::fallback {

void GrpcFrontend::CallRegistry::add(const std::string& fingerprint,
                                     grpc::CallbackServerContext* call) {
  std::lock_guard lock(mutex_);
  calls_[fingerprint].insert(call);
}

void GrpcFrontend::CallRegistry::remove(const std::string& fingerprint,
                                        grpc::CallbackServerContext* call) {
  std::lock_guard lock(mutex_);
  auto it = calls_.find(fingerprint);
  if (it == calls_.end()) return;
  it->second.erase(call);
  if (it->second.empty()) calls_.erase(it);
}

std::size_t GrpcFrontend::CallRegistry::cancel_if(
    const std::function<bool(const std::string&)>& revoked) {
  std::lock_guard lock(mutex_);
  std::size_t cancelled = 0;
  for (auto& [fingerprint, calls] : calls_) {
    if (fingerprint.empty() || !revoked(fingerprint)) continue;
    for (auto* call : calls) call->TryCancel();
    cancelled += calls.size();
  }
  return cancelled;
}

void GrpcFrontend::CallRegistry::cancel_all() {
  std::lock_guard lock(mutex_);
  for (auto& [fingerprint, calls] : calls_) {
    for (auto* call : calls) call->TryCancel();
  }
}

Result<std::unique_ptr<GrpcFrontend>> GrpcFrontend::start(transport::EventLoop& loop,
                                                          const std::string& address,
                                                          const std::string& enroll_address,
                                                          const transport::ServerTlsConfig& tls,
                                                          runtime::NodeService& service) {
  route_grpc_logs_to_spdlog();
  // One authoriser for the handshake and for every call.
  auto authorizer = std::make_shared<const PeerAuthorizer>(tls.revocation, tls.require_client_auth);
  auto credentials = listener_credentials(tls, authorizer);
  if (!credentials) return std::move(credentials).error();

  std::unique_ptr<GrpcFrontend> frontend(new GrpcFrontend());
  frontend->revocation_ = tls.revocation;
  frontend->service_ =
      std::make_unique<NodeTransportService>(loop, service, authorizer, frontend->registry_);

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, credentials->node, &port);
  int enroll_port = 0;
  if (!enroll_address.empty()) {
    builder.AddListeningPort(enroll_address, credentials->enrollment, &enroll_port);
  }
  builder.RegisterService(frontend->service_.get());
  // The same limits as QUIC: 32 concurrent calls per connection, frames of
  // at most 512 KiB (a request message is smaller than its JSON frame).
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 32);
  builder.SetMaxReceiveMessageSize(512 * 1024);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> counting;
  counting.push_back(call_counting(frontend->call_counts_));
  builder.experimental().SetInterceptorCreators(std::move(counting));
  frontend->server_ = builder.BuildAndStart();
  if (!frontend->server_ || port == 0 || (!enroll_address.empty() && enroll_port == 0)) {
    const bool enroll_failed = port != 0 && !enroll_address.empty() && enroll_port == 0;
    return Error(
        Errc::EndpointBindFailed,
        fmt::format("cannot listen for gRPC{} on {} (address in use or not local?)",
                    enroll_failed ? " enrollment" : "", enroll_failed ? enroll_address : address));
  }
  frontend->local_address_ = address.substr(0, address.rfind(':') + 1) + std::to_string(port);
  if (!enroll_address.empty()) {
    frontend->enroll_address_ =
        enroll_address.substr(0, enroll_address.rfind(':') + 1) + std::to_string(enroll_port);
  }
  return frontend;
}

GrpcFrontend::~GrpcFrontend() {
  shutdown();
}

std::size_t GrpcFrontend::cancel_revoked_calls() {
  if (!revocation_) return 0;
  return registry_->cancel_if(
      [this](const std::string& fingerprint) { return revocation_->is_revoked(fingerprint); });
}

void GrpcFrontend::shutdown() {
  if (std::exchange(shut_down_, true) || !server_) return;
  registry_->cancel_all();
  server_->Shutdown(std::chrono::system_clock::now());
  server_->Wait();
}

}  // namespace palyra::fallback
