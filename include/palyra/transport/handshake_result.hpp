// How a server-side handshake ended, in the few words an operator alerts on
// (palyrad's palyra_quic_handshakes_total{result=...}). The transport counts
// these itself; it knows nothing of how they are exported.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "palyra/common/result.hpp"

namespace palyra::transport {

enum class HandshakeResult : std::uint8_t {
  Ok,                   // established: the peer passed every check
  NoClientCertificate,  // a certificate was required and none was presented
  UnknownCa,            // the chain does not lead to our CA
  Expired,              // a certificate of the chain is outside its validity
  Revoked,              // the revocation index names the certificate
  WrongPurpose,         // the leaf lacks the extended key usage for its side
  PinMismatch,          // (client side) the server is not the pinned one
  NoAlpn,               // no protocol both sides speak
  RefusedAtCap,         // the connection cap was reached: refused unseen
  Timeout,              // no handshake within the limit
  BadCertificate,       // any other refusal of the certificate
  Other,                // the peer went away, or a protocol error
};
inline constexpr std::size_t kHandshakeResultCount =
    static_cast<std::size_t>(HandshakeResult::Other) + 1;

// "ok", "no_client_certificate", ...: the label values, stable.
std::string_view handshake_result_name(HandshakeResult result) noexcept;

// Why a handshake failed, from what the connection knows when it ends: the
// code of its Error, the TLS alert our CONNECTION_CLOSE carries (0: none)
// and the gnutls_certificate_status_t bits our verify function left (0:
// none). The status bits say more than the alert and win.
HandshakeResult handshake_result_of(Errc code, std::uint8_t tls_alert,
                                    unsigned verify_status) noexcept;

}  // namespace palyra::transport
