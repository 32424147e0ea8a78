// How a handshake ended, in an operator's words: see handshake_result.hpp.
#include "palyra/transport/handshake_result.hpp"

#include <gnutls/gnutls.h>  // alert numbers and certificate status bits only

#include <optional>

namespace palyra::transport {

std::string_view handshake_result_name(HandshakeResult result) noexcept {
  switch (result) {
    case HandshakeResult::Ok:
      return "ok";
    case HandshakeResult::NoClientCertificate:
      return "no_client_certificate";
    case HandshakeResult::UnknownCa:
      return "unknown_ca";
    case HandshakeResult::Expired:
      return "expired";
    case HandshakeResult::Revoked:
      return "revoked";
    case HandshakeResult::WrongPurpose:
      return "wrong_purpose";
    case HandshakeResult::PinMismatch:
      return "pin_mismatch";
    case HandshakeResult::NoAlpn:
      return "no_alpn";
    case HandshakeResult::RefusedAtCap:
      return "refused_at_cap";
    case HandshakeResult::Timeout:
      return "timeout";
    case HandshakeResult::BadCertificate:
      return "bad_certificate";
    case HandshakeResult::Other:
      return "other";
  }
  return "other";
}

namespace {

// GnuTLS may set several bits (INVALID with the reason); the reason decides.
std::optional<HandshakeResult> from_status(unsigned status) {
  if (status == 0) return std::nullopt;
  if (status & GNUTLS_CERT_REVOKED) return HandshakeResult::Revoked;
  // A chain from another CA is foreign whatever its dates say.
  if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA)) {
    return HandshakeResult::UnknownCa;
  }
  if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED)) return HandshakeResult::Expired;
  if (status & GNUTLS_CERT_PURPOSE_MISMATCH) return HandshakeResult::WrongPurpose;
  return HandshakeResult::BadCertificate;
}

std::optional<HandshakeResult> from_alert(std::uint8_t alert) {
  switch (alert) {
    case 0:
      return std::nullopt;
    case GNUTLS_A_CERTIFICATE_REQUIRED:
      return HandshakeResult::NoClientCertificate;
    case GNUTLS_A_CERTIFICATE_REVOKED:
      return HandshakeResult::Revoked;
    case GNUTLS_A_CERTIFICATE_EXPIRED:
      return HandshakeResult::Expired;
    case GNUTLS_A_UNKNOWN_CA:
      return HandshakeResult::UnknownCa;
    case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
      return HandshakeResult::WrongPurpose;
    case GNUTLS_A_NO_APPLICATION_PROTOCOL:
      return HandshakeResult::NoAlpn;
    case GNUTLS_A_BAD_CERTIFICATE:
      return HandshakeResult::BadCertificate;
    default:
      return std::nullopt;
  }
}

}  // namespace

HandshakeResult handshake_result_of(Errc code, std::uint8_t tls_alert,
                                    unsigned verify_status) noexcept {
  if (code == Errc::PinnedCertificateMismatch) return HandshakeResult::PinMismatch;
  if (code == Errc::HandshakeTimeout) return HandshakeResult::Timeout;
  if (code == Errc::MissingPeerIdentity) return HandshakeResult::NoClientCertificate;
  if (auto result = from_status(verify_status)) return *result;
  if (auto result = from_alert(tls_alert)) return *result;
  return HandshakeResult::Other;
}

}  // namespace palyra::transport
