// What a gRPC call's context says about its caller, in the form the rest of
// the daemon uses: the address as QUIC's callers have it, and the client
// certificate the TLS session carries.
#pragma once

#include <string>

namespace grpc {
class ServerContextBase;
}

namespace palyra::fallback {

// "ipv4:127.0.0.1:5000" or "ipv6:%5B::1%5D:5000" (gRPC's peer URI) ->
// "127.0.0.1:5000" or "[::1]:5000". Anything else comes back with only the
// percent-escapes of '[', ']' and '%' decoded.
std::string peer_address(const std::string& grpc_peer_uri);

// The client certificate of the call's TLS session (PEM); empty when the
// caller presented none (the enrollment port, insecure mode).
std::string client_certificate_pem(const grpc::ServerContextBase& context);

}  // namespace palyra::fallback
