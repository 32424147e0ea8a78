// The daemon's gRPC side (PROTOCOL.md §5): palyra.node.v1.NodeTransport over
// TCP, with the daemon's certificate. One grpc::Server, two ports:
// - the node port: mandatory mutual TLS against the gateway CA and the same
//   revocation index as QUIC — one decision (PeerAuthorizer, in
//   src/fallback), taken in the handshake (gRPC's external certificate
//   verifier) and again on every call (UNAUTHENTICATED, no data). Every
//   method but Enroll: an Enroll call there is answered unsupported_method,
//   as node.enroll is on QUIC's palyra-quic-v1 ALPN.
// - the enrollment port (PROTOCOL.md §7, the counterpart of the
//   palyra-enroll-v1 ALPN): TLS with the same certificate, no client
//   certificate requested. Enroll only; every other method is
//   UNAUTHENTICATED ("a client certificate is required"), as on the node
//   port for a call without a certificate. Enroll calls reach NodeService as
//   Caller{"", "addr:port", enrolling=true}.
// A call is told apart by whether it carries a client certificate, which
// only the node port asks for; in insecure mode (require_client_auth false)
// neither port asks, so both serve every method to callers without one.
// The server's certificate, key and CA bundle are read from their files and
// read again when they change (within a second): rotation needs no restart.
// Calls go to the same runtime::NodeService as QUIC's, on its event loop;
// gRPC's own threads only translate and hand over.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "palyra/common/result.hpp"
#include "palyra/fallback/call_counts.hpp"
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
  // Listens on `address` ("127.0.0.1:7443"; port 0 picks one) and, unless
  // `enroll_address` is empty, on `enroll_address` ("127.0.0.1:7442") for
  // enrollment. The service and the loop must outlive the frontend.
  // EndpointBindFailed (naming the address), IoFailed/NotFound (a TLS file),
  // CertificateParsingFailed, PrivateKeyParsingFailed.
  static Result<std::unique_ptr<GrpcFrontend>> start(transport::EventLoop& loop,
                                                     const std::string& address,
                                                     const std::string& enroll_address,
                                                     const transport::ServerTlsConfig& tls,
                                                     runtime::NodeService& service);
  // Cancels what is still running and stops the server.
  ~GrpcFrontend();
  GrpcFrontend(const GrpcFrontend&) = delete;
  GrpcFrontend& operator=(const GrpcFrontend&) = delete;

  // "127.0.0.1:7443", with the port actually bound.
  const std::string& local_address() const noexcept { return local_address_; }
  // The enrollment port's address, likewise; empty when there is none.
  const std::string& enroll_address() const noexcept { return enroll_address_; }
  // After the revocation index was reloaded: cancels the calls of revoked
  // certificates (their streams end with CANCELLED). Returns how many.
  std::size_t cancel_revoked_calls();
  // Refuses new calls, cancels those still running (the daemon drains its
  // in-flight calls before), and waits until every call has ended. Blocks
  // until calls waiting on the event loop are answered: do not call it on
  // the loop's thread while calls are in flight.
  void shutdown();
  // Calls by method and status so far; any thread.
  CallCounts::Tally call_counts() const { return call_counts_->snapshot(); }

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
  std::shared_ptr<CallCounts> call_counts_ = std::make_shared<CallCounts>();
  std::unique_ptr<NodeTransportService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string local_address_;
  std::string enroll_address_;
  bool shut_down_ = false;
};

}  // namespace palyra::fallback
