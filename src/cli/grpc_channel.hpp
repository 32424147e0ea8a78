// A gRPC channel to the daemon's fallback listener (PROTOCOL.md §5) with the
// same trust anchor and device identity as the QUIC connection would use.
#pragma once

#include <memory>

#include "connection_options.hpp"
#include "palyra/node/v1/node_transport.grpc.pb.h"

namespace palyra::cli {

// Reads the CA and the device certificate/key; IoFailed when one is unreadable.
Result<std::unique_ptr<node::v1::NodeTransport::Stub>> open_grpc_stub(const ResolvedConnection& connection);

}  // namespace palyra::cli
