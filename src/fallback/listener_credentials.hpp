// The TLS credentials of the daemon's two gRPC listeners, and the handshake
// check of the node port. Both listeners present the server certificate
// from its files, re-read when they change (rotation needs no restart).
// The node port, unless in insecure mode, requires a client certificate
// that gRPC verifies against the gateway CA and then hands to
// PeerAuthorizer — the same decision every call takes again — so a revoked
// certificate gets no connection at all. The enrollment port asks for no
// client certificate (a node that enrolls has none yet).
#pragma once

#include <memory>

#include "palyra/common/result.hpp"
#include "palyra/transport/tls_config.hpp"
#include "peer_authorization.hpp"

namespace grpc {
class ServerCredentials;
}

namespace palyra::fallback {

// How often the server's certificate, key and CA bundle files are read
// again: a replaced certificate serves new handshakes within this.
inline constexpr unsigned kTlsFilesRefreshSeconds = 1;

struct ListenerCredentials {
  std::shared_ptr<grpc::ServerCredentials> node;
  std::shared_ptr<grpc::ServerCredentials> enrollment;
};

// Reads the three files of `tls` once, for a clear error at start (gRPC's
// file watcher only logs a failure): IoFailed/NotFound,
// CertificateParsingFailed, PrivateKeyParsingFailed. `authorizer` decides
// the node port's handshakes when tls.require_client_auth.
Result<ListenerCredentials> listener_credentials(const transport::ServerTlsConfig& tls,
                                                 std::shared_ptr<const PeerAuthorizer> authorizer);

}  // namespace palyra::fallback
