// The client side of enrollment over the gRPC fallback (PROTOCOL.md §7 and
// §5): TLS to the daemon's enrollment listener with no client certificate
// and no CA file, trusting the server exactly as the QUIC enrollment client
// does — the chain the server sends must end in a CA whose
// SubjectPublicKeyInfo SHA-256 is the token's ca-hash, and the leaf must
// verify against that CA for the server name with EKU serverAuth. The check
// is gRPC's external certificate verifier: it runs once the TLS handshake has
// the server's chain and before the HTTP/2 connection starts, so a refused
// server never receives a byte of a request.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "palyra/common/result.hpp"

namespace grpc {
class ChannelCredentials;
}

namespace palyra::fallback {

// What the verifier refused, for the error of the call that failed: gRPC
// reports a refused handshake only as UNAVAILABLE. Written from gRPC's
// threads.
class HandshakeRefusal {
 public:
  void set(Error error);
  std::optional<Error> get() const;

 private:
  mutable std::mutex mutex_;
  std::optional<Error> error_;
};

// Channel credentials for the enrollment listener. `server_name` is also the
// name the channel must be created for (ChannelArguments::
// SetSslTargetNameOverride). Every refusal is recorded in `refusal`.
std::shared_ptr<grpc::ChannelCredentials> enrollment_channel_credentials(
    std::string ca_spki_sha256, std::string server_name, std::shared_ptr<HandshakeRefusal> refusal);

}  // namespace palyra::fallback
