// The daemon's gRPC side (PROTOCOL.md §5): palyra.node.v1.NodeTransport over
// TCP, with the daemon's certificate, mandatory mutual TLS against the
// gateway CA and the same revocation index as QUIC — checked in the
// handshake (gRPC's external certificate verifier) and again on every call.
// Calls go to the same runtime::NodeService as QUIC's, on its event loop;
// gRPC's own threads only translate and hand over.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "palyra/common/result.hpp"
#include "palyra/runtime/node_service.hpp"
#include "palyra/transport/tls_config.hpp"

namespace grpc {
class Server;
class CallbackServerContext;
}  // namespace grpc

namespace palyra::fallback {

class NodeTransportService;

class GrpcFrontend {
 public:
  // Listens on `address` ("127.0.0.1:7443"; port 0 picks one). The service
  // and the loop must outlive the frontend. EndpointBindFailed,
  // TlsConfigurationFailed, CertificateParsingFailed.
  static Result<std::unique_ptr<GrpcFrontend>> start(transport::EventLoop& loop,
                                                     const std::string& address,
                                                     const transport::ServerTlsConfig& tls,
                                                     runtime::NodeService& service);
  // Cancels what is still running and stops the server.
  ~GrpcFrontend();
  GrpcFrontend(const GrpcFrontend&) = delete;
  GrpcFrontend& operator=(const GrpcFrontend&) = delete;

  // "127.0.0.1:7443", with the port actually bound.
  const std::string& local_address() const noexcept { return local_address_; }
  // After the revocation index was reloaded: cancels the calls of revoked
  // certificates (their streams end with CANCELLED). Returns how many.
  std::size_t cancel_revoked_calls();
  // Refuses new calls, cancels those still running (the daemon drains its
  // in-flight calls before), and waits until every call has ended. Blocks
  // until calls waiting on the event loop are answered: do not call it on
  // the loop's thread while calls are in flight.
  void shutdown();

  // The calls in progress, by client certificate fingerprint.
  class CallRegistry {
   public:
    void add(const std::string& fingerprint, grpc::CallbackServerContext* call);
    void remove(const std::string& fingerprint, grpc::CallbackServerContext* call);
    std::size_t cancel_if(const std::function<bool(const std::string&)>& revoked);
    void cancel_all();

   private:
    std::mutex mutex_;
    std::unordered_map<std::string, std::unordered_set<grpc::CallbackServerContext*>> calls_;
  };

 private:
  GrpcFrontend() = default;

  std::shared_ptr<const identity::RevocationIndex> revocation_;
  std::shared_ptr<CallRegistry> registry_ = std::make_shared<CallRegistry>();
  std::unique_ptr<NodeTransportService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string local_address_;
  bool shut_down_ = false;
};

}  // namespace palyra::fallback
