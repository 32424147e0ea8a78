#include "palyra/transport/io/fallback.hpp"

#include <fmt/format.h>

namespace palyra::transport {

bool is_reachability_failure(const Error& error) noexcept {
  return error.code() == Errc::HandshakeTimeout || error.code() == Errc::ConnectStartFailed;
}

Result<ConnectOutcome> decide_fallback(Result<std::unique_ptr<Client>> attempt,
                                       TcpFallbackPolicy policy, bool privileged) {
  if (attempt) return ConnectOutcome(std::move(*attempt));
  Error error = std::move(attempt).error();
  if (policy != TcpFallbackPolicy::AllowExplicit || privileged || !is_reachability_failure(error)) {
    return error;
  }
  std::string reason =
      fmt::format("QUIC failed ({}); falling back to gRPC over TCP as requested", error.describe());
  return ConnectOutcome(FallbackRequired{std::move(error), std::move(reason)});
}

Result<ConnectOutcome> connect_with_explicit_fallback(const SocketAddress& server,
                                                      const ClientTlsConfig& tls,
                                                      const Limits& limits,
                                                      TcpFallbackPolicy policy, bool privileged,
                                                      const ConnectOptions& options,
                                                      std::shared_ptr<AddressTokenStore> tokens) {
  return decide_fallback(Client::connect(server, tls, limits, options, std::move(tokens)), policy,
                         privileged);
}

}  // namespace palyra::transport
