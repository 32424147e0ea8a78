// A connection to palyrad as the client commands see it: one call at a time,
// request frame in, response frames out — over QUIC, or over the gRPC
// fallback when QUIC is unreachable and the user allowed it explicitly
// (PROTOCOL.md §5). Commands never know which transport carries them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "connection_options.hpp"
#include "palyra/common/result.hpp"
#include "palyra/runtime/protocol.hpp"

namespace palyra::cli {

// Set by SIGINT/SIGTERM in long-running commands: calls return promptly.
std::atomic<bool>& stop_requested();
// Makes SIGINT/SIGTERM set stop_requested() (a long-running command then
// finishes what it is doing and exits 0).
void install_stop_handlers();
// Set when the device identity was renewed under a long-running call (a
// follower): the call returns promptly, like on stop, and the command
// reconnects with the new certificate. The command clears it.
std::atomic<bool>& reconnect_requested();
// Either of the two: a call in progress returns Ok at its next check.
bool call_interrupted();

enum class Next { Continue, Stop };
using FrameHandler =
    std::function<Result<Next>(const runtime::Response&, const std::string& frame)>;

class NodeConnection {
 public:
  virtual ~NodeConnection() = default;
  // One call: sends `request` (a §4 request frame) and passes each response
  // frame to `on_frame` until the daemon ends the call or on_frame says Stop.
  // With `wait_forever`, silence is not an error (a follower waits);
  // otherwise each frame must arrive within `timeout`.
  virtual Status call(const std::string& request, std::chrono::milliseconds timeout,
                      bool wait_forever, const FrameHandler& on_frame) = 0;
  virtual void close() = 0;
  virtual const char* transport_name() const = 0;  // "QUIC" or "gRPC over TCP"
  // Which of ResolvedConnection::gateways this connection reached.
  std::size_t gateway() const noexcept { return gateway_; }

 private:
  friend Result<std::unique_ptr<NodeConnection>> open_node_connection(const ResolvedConnection&,
                                                                      bool);
  std::size_t gateway_ = 0;
};

// To the gateways in turn, from connection.gateway on, until one answers:
// a gateway that cannot be connected to is passed over with one line on
// stderr, unless the failure is local (is_local_failure: every gateway would
// fail alike). None answered: one error naming each (no_gateway_answered).
// At each gateway, QUIC first. If it fails because UDP does not get
// through, the policy allows the fallback, and the call is not `privileged`
// (state-changing), says so on stderr and connects over gRPC instead;
// otherwise the QUIC error.
Result<std::unique_ptr<NodeConnection>> open_node_connection(const ResolvedConnection& connection,
                                                             bool privileged);

}  // namespace palyra::cli
