// ngtcp2's and TLS's errors in our words: see connection_errors.hpp.
#include "connection_errors.hpp"

#include <fmt/format.h>
#include <gnutls/gnutls.h>

#include <cctype>

namespace palyra::transport {

std::string_view close_cause_name(CloseCause cause) noexcept {
  switch (cause) {
    case CloseCause::NoError:
      return "no_error";
    case CloseCause::IdleTimeout:
      return "idle_timeout";
    case CloseCause::StatelessReset:
      return "stateless_reset";
    case CloseCause::ShuttingDown:
      return "shutting_down";
    case CloseCause::Revoked:
      return "revoked";
    case CloseCause::ApplicationError:
      return "application_error";
    case CloseCause::TlsAlert:
      return "tls_alert";
    case CloseCause::TransportError:
      return "transport_error";
  }
  return "transport_error";
}

CloseCause cause_of_application_code(std::uint64_t code) noexcept {
  switch (code) {
    case app_error::kNoError:
      return CloseCause::NoError;
    case app_error::kShuttingDown:
      return CloseCause::ShuttingDown;
    case app_error::kRevoked:
      return CloseCause::Revoked;
    default:
      return CloseCause::ApplicationError;
  }
}

CloseCause cause_of_peer_close(const ngtcp2_connection_close_error& close) noexcept {
  if (close.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION) {
    return cause_of_application_code(close.error_code);
  }
  if (close.type != NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT) {
    return CloseCause::TransportError;
  }
  if (close.error_code == NGTCP2_NO_ERROR) return CloseCause::NoError;
  if (close.error_code >= NGTCP2_CRYPTO_ERROR && close.error_code <= 0x1ff) {
    return CloseCause::TlsAlert;
  }
  return CloseCause::TransportError;
}

std::optional<ConnectionEnding> ending_after_read(const ReadFailure& failure,
                                                  const ErrorContext& context) {
  switch (failure.rv) {
    case NGTCP2_ERR_DRAINING: {  // the peer closed the connection: it knows
      if (failure.stateless_reset) {
        // RFC 9000 §10.3: the peer has no state for this connection any
        // more (typically it restarted); waiting for the idle timeout
        // would only delay the reconnect.
        return ConnectionEnding{
            Error(Errc::ConnectionClosed,
                  fmt::format("{} reset the connection (stateless reset): it no longer knows it, "
                              "e.g. after a restart",
                              context.remote)),
            false,
            {},
            CloseCause::StatelessReset,
            true};
      }
      std::string what = describe_peer_close(failure.peer_close);
      const CloseCause cause = cause_of_peer_close(failure.peer_close);
      if (!context.is_server && context.handshaking) {
        return ConnectionEnding{
            Error(Errc::ConnectFailed,
                  fmt::format("the server at {} refused the handshake: {}", context.remote, what)),
            false,
            {},
            cause,
            true};
      }
      return ConnectionEnding{
          Error(Errc::ConnectionClosed, fmt::format("the peer closed the connection: {}", what)),
          false,
          {},
          cause,
          true};
    }
    case NGTCP2_ERR_CLOSING:
      return std::nullopt;
    case NGTCP2_ERR_DROP_CONN:
      return ConnectionEnding{Error(Errc::ConnectionClosed, "connection dropped by the QUIC stack"),
                              false,
                              {},
                              CloseCause::TransportError};
    case NGTCP2_ERR_CRYPTO: {
      const std::string& why = failure.verify_failure;
      CloseReason close;
      close.tls_alert = failure.tls_alert;
      if (context.is_server) {
        return ConnectionEnding{
            Error(Errc::ConnectFailed, fmt::format("handshake with {} failed: {}{}", context.remote,
                                                   describe_tls_alert(failure.tls_alert),
                                                   why.empty() ? "" : ": " + why)),
            true, std::move(close), CloseCause::TlsAlert};
      }
      return ConnectionEnding{
          Error(Errc::ConnectFailed,
                fmt::format("we refused the server at {} ({}): {}", context.remote,
                            context.server_name,
                            why.empty() ? describe_tls_alert(failure.tls_alert) : why)),
          true, std::move(close), CloseCause::TlsAlert};
    }
    default:
      break;
  }
  CloseReason close;
  close.library_error = failure.rv;
  return ConnectionEnding{
      Error(
          context.is_server || !context.handshaking ? Errc::ConnectionClosed : Errc::ConnectFailed,
          fmt::format("QUIC error with {}: {}", context.remote, ngtcp2_strerror(failure.rv))),
      true, std::move(close), CloseCause::TransportError};
}

ConnectionEnding ending_after_expiry(int rv, const ErrorContext& context, const Limits& limits) {
  if (rv == NGTCP2_ERR_IDLE_CLOSE) {
    return ConnectionEnding{
        Error(Errc::ConnectionClosed, fmt::format("idle timeout: nothing heard from {} for {} ms",
                                                  context.remote, limits.idle_timeout.count())),
        false,
        {},
        CloseCause::IdleTimeout};
  }
  if (rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
    return ConnectionEnding{Error(Errc::HandshakeTimeout,
                                  fmt::format("no QUIC handshake with {} within {} ms",
                                              context.remote, limits.handshake_timeout.count())),
                            false,
                            {},
                            CloseCause::TransportError};
  }
  CloseReason close;
  close.library_error = rv;
  return ConnectionEnding{
      Error(Errc::ConnectionClosed,
            fmt::format("QUIC timer error with {}: {}", context.remote, ngtcp2_strerror(rv))),
      true, std::move(close), CloseCause::TransportError};
}

ConnectionEnding ending_after_write(int rv, const ErrorContext& context) {
  CloseReason close;
  close.library_error = rv;
  return ConnectionEnding{
      Error(Errc::ConnectionClosed,
            fmt::format("QUIC write error with {}: {}", context.remote, ngtcp2_strerror(rv))),
      true, std::move(close), CloseCause::TransportError};
}

ConnectionEnding ending_by_application(std::uint64_t app_error_code, std::string_view reason) {
  CloseReason close;
  close.application_code = app_error_code;
  close.application_reason = std::string(reason);
  return ConnectionEnding{Error(Errc::ConnectionClosed,
                                fmt::format("closed locally with application error 0x{:x} \"{}\"",
                                            app_error_code, reason)),
                          true, std::move(close), cause_of_application_code(app_error_code)};
}

ngtcp2_connection_close_error to_ngtcp2(const CloseReason& reason) {
  ngtcp2_connection_close_error close;
  ngtcp2_connection_close_error_default(&close);
  if (reason.tls_alert != 0) {
    ngtcp2_connection_close_error_set_transport_error_tls_alert(&close, reason.tls_alert, nullptr,
                                                                0);
  } else if (reason.application_code) {
    ngtcp2_connection_close_error_set_application_error(
        &close, *reason.application_code,
        reinterpret_cast<const std::uint8_t*>(reason.application_reason.data()),
        reason.application_reason.size());
  } else if (reason.library_error != 0) {
    ngtcp2_connection_close_error_set_transport_error_liberr(&close, reason.library_error, nullptr,
                                                             0);
  }
  return close;
}

Error connection_start_error(bool is_server, int rv, std::string_view remote) {
  if (is_server) {
    return Error(Errc::Internal, fmt::format("ngtcp2_conn_server_new: {}", ngtcp2_strerror(rv)));
  }
  return Error(Errc::ConnectStartFailed, fmt::format("cannot start a QUIC connection to {}: {}",
                                                     remote, ngtcp2_strerror(rv)));
}

Error stream_open_error(int rv, std::size_t open_streams) {
  if (rv == NGTCP2_ERR_STREAM_ID_BLOCKED) {
    return Error(Errc::StreamLimitReached,
                 fmt::format("the peer allows no more concurrent streams ({} open)", open_streams));
  }
  return Error(Errc::Internal,
               fmt::format("ngtcp2_conn_open_bidi_stream: {}", ngtcp2_strerror(rv)));
}

std::string describe_peer_close(const ngtcp2_connection_close_error& close) {
  std::string reason(reinterpret_cast<const char*>(close.reason), close.reasonlen);
  std::string what;
  if (close.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION) {
    what = fmt::format("application error 0x{:x}", close.error_code);
  } else if (close.error_code >= NGTCP2_CRYPTO_ERROR && close.error_code <= 0x1ff) {
    what = describe_tls_alert(static_cast<std::uint8_t>(close.error_code - NGTCP2_CRYPTO_ERROR));
  } else if (close.error_code == NGTCP2_CONNECTION_REFUSED) {
    what = "CONNECTION_REFUSED (0x2)";
  } else {
    what = fmt::format("transport error 0x{:x}", close.error_code);
  }
  if (!reason.empty()) what += fmt::format(" \"{}\"", reason);
  return what;
}

std::string describe_tls_alert(std::uint8_t alert) {
  // GnuTLS names it GNUTLS_A_CERTIFICATE_REVOKED; RFC 8446 says certificate_revoked.
  const char* raw = gnutls_alert_get_strname(static_cast<gnutls_alert_description_t>(alert));
  std::string name = raw != nullptr ? raw : "unknown";
  if (name.starts_with("GNUTLS_A_")) name = name.substr(9);
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return fmt::format("TLS alert {} (0x{:x})", name, 0x100 + static_cast<unsigned>(alert));
}

}  // namespace palyra::transport
