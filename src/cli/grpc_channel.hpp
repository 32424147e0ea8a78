// A gRPC channel to the daemon's fallback listeners (PROTOCOL.md §5) with the
// same trust as the QUIC connection would use: the CA file and the device
// identity, or — for enrollment (tls.ca_spki_sha256 set) — no client
// certificate and the token's CA hash, checked in the handshake
// (fallback::enrollment_channel_credentials).
#pragma once

#include <memory>

#include "connection_options.hpp"
#include "palyra/fallback/enrollment_channel.hpp"
#include "palyra/node/v1/node_transport.grpc.pb.h"

namespace palyra::cli {

struct GrpcChannel {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<node::v1::NodeTransport::Stub> stub;
  // Enrollment only: why the server's chain was refused, once it was.
  std::shared_ptr<fallback::HandshakeRefusal> refusal;
};

// To connection.grpc_address. Reads the CA and the device certificate/key
// (IoFailed when one is unreadable), or with tls.ca_spki_sha256 set none of
// them (TlsConfigurationFailed when the hash is malformed). Does not connect.
Result<GrpcChannel> open_grpc_channel(const ResolvedConnection& connection);
Result<std::unique_ptr<node::v1::NodeTransport::Stub>> open_grpc_stub(
    const ResolvedConnection& connection);

}  // namespace palyra::cli
