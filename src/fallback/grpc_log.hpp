// gRPC's own log lines (it writes to stderr by itself, in its own format)
// routed into our logger, so palyrad's log has one format — text or JSON —
// and one level setting.
#pragma once

namespace palyra::fallback {

// Idempotent; call before the first gRPC object is made.
void route_grpc_logs_to_spdlog();

}  // namespace palyra::fallback
