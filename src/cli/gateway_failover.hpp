// Several gateways of one cluster behind one --connect list: when moving on
// to the next one helps, what to say when none answered, and one call that
// moves on when it may (docs/OPERATIONS.md "Cluster mode").
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "connection_options.hpp"
#include "node_connection.hpp"
#include "palyra/common/result.hpp"

namespace palyra::cli {

// A connection attempt that failed here, on this machine (a file that does
// not load, a bad option): every other gateway would fail the same way, so
// none is tried.
bool is_local_failure(const Error& error) noexcept;

// The gateway went away or could not be reached (connection lost, idle
// timeout, stateless reset, shutting down, no handshake, no answer in
// time): another gateway, or the same one later, may answer. A refused
// certificate or a pin mismatch is not: it will not fix itself.
bool lost_the_gateway(const Error& error) noexcept;

// One line naming every gateway tried and why it failed, in order. Its code:
// the first failure that is not lost_the_gateway (waiting will not fix it),
// else the last one's. With one gateway, the message is that one's.
Error no_gateway_answered(const ResolvedConnection& connection,
                          const std::vector<std::pair<std::size_t, Error>>& failures);

// One request through the gateways in turn, starting at connection.gateway:
// a gateway that cannot be connected to is passed over (open_node_connection);
// one lost after the request went out (lost_the_gateway) is passed over only
// when `retry_lost_answer` (the call is safe to repeat), each gateway once.
struct GatewayCall {
  Status status;
  std::size_t gateway = 0;   // the last one the request went to
  bool answer_lost = false;  // the request went out and the connection failed before its answer
};
GatewayCall call_through_gateways(const ResolvedConnection& connection, bool privileged,
                                  const std::string& request, bool retry_lost_answer,
                                  const FrameHandler& on_frame, std::string_view doing);

}  // namespace palyra::cli
