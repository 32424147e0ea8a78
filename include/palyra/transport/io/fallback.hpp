// Explicit fallback to TCP (PROTOCOL.md §5): "fail closed, never silently
// downgrade". The QUIC attempt always comes first; its failure becomes
// FallbackRequired only when the caller's policy allows it, the call is not
// on a privileged path, and the failure is one a UDP-blocking network causes
// (no handshake at all). A security failure — a refused certificate, a pin
// mismatch — is never turned into a fallback: that is what an attacker
// blocking UDP would want.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "palyra/common/result.hpp"
#include "palyra/transport/io/client.hpp"

namespace palyra::transport {

enum class TcpFallbackPolicy { Disabled, AllowExplicit };

struct FallbackRequired {
  Error quic_error;    // why QUIC did not work
  std::string reason;  // one line for the user: what happened and why falling back is allowed
};

using ConnectOutcome = std::variant<std::unique_ptr<Client>, FallbackRequired>;

// True for errors that mean "UDP did not get through", as opposed to "the
// peer was reached and something was refused".
bool is_reachability_failure(const Error& error) noexcept;

// Pure decision, separated so it can be tested exhaustively.
Result<ConnectOutcome> decide_fallback(Result<std::unique_ptr<Client>> attempt,
                                       TcpFallbackPolicy policy, bool privileged);

// Connects over QUIC (with the NEW_TOKEN tokens in `tokens`, as
// Client::connect); on failure returns FallbackRequired or the QUIC error
// as decide_fallback says.
Result<ConnectOutcome> connect_with_explicit_fallback(
    const SocketAddress& server, const ClientTlsConfig& tls, const Limits& limits,
    TcpFallbackPolicy policy, bool privileged, const ConnectOptions& options = {},
    std::shared_ptr<AddressTokenStore> tokens = nullptr);

}  // namespace palyra::transport
