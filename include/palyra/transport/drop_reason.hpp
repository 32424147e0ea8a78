// Why the server dropped a datagram without handing it to any connection
// and without keeping anything of it (palyrad's
// palyra_quic_datagrams_dropped_total{reason=...}). A dropped datagram may
// still be answered statelessly (a Stateless Reset, a Version
// Negotiation); those answers have counters of their own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace palyra::transport {

enum class DropReason : std::uint8_t {
  Malformed,           // not a QUIC packet: too short, or its header does not parse
  UnsupportedVersion,  // a long header of any version but QUIC v1
  UnknownConnection,   // a short header for a connection ID we do not know
  NotInitial,          // QUIC v1 for no connection of ours, and not an Initial we accept
  Draining,            // a new client's Initial after the server stopped accepting
};
inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::Draining) + 1;

// "malformed", "unsupported_version", ...: the label values, stable.
constexpr std::string_view drop_reason_name(DropReason reason) noexcept {
  switch (reason) {
    case DropReason::Malformed:
      return "malformed";
    case DropReason::UnsupportedVersion:
      return "unsupported_version";
    case DropReason::UnknownConnection:
      return "unknown_connection";
    case DropReason::NotInitial:
      return "not_initial";
    case DropReason::Draining:
      return "draining";
  }
  return "malformed";
}

}  // namespace palyra::transport
