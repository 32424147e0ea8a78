// ngtcp2's and TLS's errors in our words: each translation on its own, with
// ngtcp2's real codes and close structures but no connection.
#include "connection_errors.hpp"

#include <gnutls/gnutls.h>
#include <gtest/gtest.h>

#include <string>

namespace palyra::transport {
namespace {

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

ErrorContext client(bool handshaking) {
  return {false, handshaking, "127.0.0.1:7444", "gateway.example"};
}
ErrorContext server() {
  return {true, false, "127.0.0.1:40000", ""};
}

ngtcp2_connection_close_error application_close(std::uint64_t code, std::string_view reason) {
  ngtcp2_connection_close_error close;
  ngtcp2_connection_close_error_set_application_error(
      &close, code, reinterpret_cast<const std::uint8_t*>(reason.data()), reason.size());
  return close;
}

ngtcp2_connection_close_error alert_close(std::uint8_t alert) {
  ngtcp2_connection_close_error close;
  ngtcp2_connection_close_error_set_transport_error_tls_alert(&close, alert, nullptr, 0);
  return close;
}

TEST(ConnectionErrorsTest, DescribesWhatThePeersCloseSaid) {
  EXPECT_EQ(describe_peer_close(application_close(0x10, "shutting down")),
            "application error 0x10 \"shutting down\"");
  EXPECT_EQ(describe_peer_close(alert_close(GNUTLS_A_CERTIFICATE_REVOKED)),
            "TLS alert certificate_revoked (0x12c)");
  ngtcp2_connection_close_error refused;
  ngtcp2_connection_close_error_set_transport_error(&refused, NGTCP2_CONNECTION_REFUSED, nullptr,
                                                    0);
  EXPECT_EQ(describe_peer_close(refused), "CONNECTION_REFUSED (0x2)");
  ngtcp2_connection_close_error other;
  ngtcp2_connection_close_error_set_transport_error(&other, NGTCP2_PROTOCOL_VIOLATION, nullptr, 0);
  EXPECT_EQ(describe_peer_close(other), "transport error 0xa");
}

TEST(ConnectionErrorsTest, APeerCloseEndsSilently) {
  ReadFailure failure;
  failure.rv = NGTCP2_ERR_DRAINING;
  failure.peer_close = alert_close(GNUTLS_A_BAD_CERTIFICATE);
  auto refused = ending_after_read(failure, client(true));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.code(), Errc::ConnectFailed);
  EXPECT_TRUE(contains(refused->error.message(), "the server at 127.0.0.1:7444 refused"));
  EXPECT_TRUE(contains(refused->error.message(), "bad_certificate"));
  EXPECT_FALSE(refused->notify_peer) << "the peer closed: nothing to tell it";

  failure.peer_close = application_close(0x11, "revoked");
  auto closed = ending_after_read(failure, server());
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->error.code(), Errc::ConnectionClosed);
  EXPECT_TRUE(contains(closed->error.message(), "application error 0x11 \"revoked\""));
  EXPECT_FALSE(closed->notify_peer);
}

TEST(ConnectionErrorsTest, ClosingIsNoNewEnding) {
  ReadFailure failure;
  failure.rv = NGTCP2_ERR_CLOSING;
  EXPECT_FALSE(ending_after_read(failure, server()));
  failure.rv = NGTCP2_ERR_DROP_CONN;
  auto dropped = ending_after_read(failure, server());
  ASSERT_TRUE(dropped);
  EXPECT_EQ(dropped->error.code(), Errc::ConnectionClosed);
  EXPECT_FALSE(dropped->notify_peer);
}

TEST(ConnectionErrorsTest, AFailedHandshakeSendsItsAlertAndSaysWhy) {
  ReadFailure failure;
  failure.rv = NGTCP2_ERR_CRYPTO;
  failure.tls_alert = GNUTLS_A_BAD_CERTIFICATE;
  failure.verify_failure = "The certificate has expired.";
  auto on_server = ending_after_read(failure, server());
  ASSERT_TRUE(on_server);
  EXPECT_EQ(on_server->error.code(), Errc::ConnectFailed);
  EXPECT_TRUE(contains(on_server->error.message(), "handshake with 127.0.0.1:40000 failed"));
  EXPECT_TRUE(contains(on_server->error.message(), "bad_certificate"));
  EXPECT_TRUE(contains(on_server->error.message(), "expired"));
  EXPECT_TRUE(on_server->notify_peer);
  EXPECT_EQ(on_server->close.tls_alert, GNUTLS_A_BAD_CERTIFICATE);

  auto on_client = ending_after_read(failure, client(true));
  ASSERT_TRUE(on_client);
  EXPECT_EQ(on_client->error.message(),
            "we refused the server at 127.0.0.1:7444 (gateway.example): The certificate has "
            "expired.");
  failure.verify_failure.clear();
  on_client = ending_after_read(failure, client(true));
  ASSERT_TRUE(on_client);
  EXPECT_TRUE(contains(on_client->error.message(), "bad_certificate")) << "no reason: the alert";
}

TEST(ConnectionErrorsTest, OtherLibraryErrorsCloseWithTheirTransportError) {
  ReadFailure failure;
  failure.rv = NGTCP2_ERR_PROTO;
  auto ending = ending_after_read(failure, client(true));
  ASSERT_TRUE(ending);
  EXPECT_EQ(ending->error.code(), Errc::ConnectFailed) << "a client still handshaking";
  EXPECT_TRUE(contains(ending->error.message(), ngtcp2_strerror(NGTCP2_ERR_PROTO)));
  EXPECT_TRUE(ending->notify_peer);
  EXPECT_EQ(ending->close.library_error, NGTCP2_ERR_PROTO);
  EXPECT_EQ(ending_after_read(failure, client(false))->error.code(), Errc::ConnectionClosed);
  EXPECT_EQ(ending_after_read(failure, server())->error.code(), Errc::ConnectionClosed);
  EXPECT_EQ(ending_after_write(NGTCP2_ERR_NOMEM, server()).close.library_error, NGTCP2_ERR_NOMEM);
}

TEST(ConnectionErrorsTest, TimeoutsEndSilentlyNamingTheLimit) {
  Limits limits;
  auto idle = ending_after_expiry(NGTCP2_ERR_IDLE_CLOSE, server(), limits);
  EXPECT_EQ(idle.error.code(), Errc::ConnectionClosed);
  EXPECT_TRUE(contains(idle.error.message(), std::to_string(limits.idle_timeout.count()) + " ms"));
  EXPECT_FALSE(idle.notify_peer);
  auto handshake = ending_after_expiry(NGTCP2_ERR_HANDSHAKE_TIMEOUT, client(true), limits);
  EXPECT_EQ(handshake.error.code(), Errc::HandshakeTimeout);
  EXPECT_FALSE(handshake.notify_peer);
  auto other = ending_after_expiry(NGTCP2_ERR_NOMEM, server(), limits);
  EXPECT_TRUE(other.notify_peer);
  EXPECT_EQ(other.close.library_error, NGTCP2_ERR_NOMEM);
}

TEST(ConnectionErrorsTest, OurCloseReasonInNgtcp2sForm) {
  auto none = to_ngtcp2({});
  EXPECT_EQ(none.type, NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT);
  EXPECT_EQ(none.error_code, NGTCP2_NO_ERROR);

  CloseReason alert;
  alert.tls_alert = GNUTLS_A_CERTIFICATE_REVOKED;
  auto crypto = to_ngtcp2(alert);
  EXPECT_EQ(crypto.type, NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT);
  EXPECT_EQ(crypto.error_code, NGTCP2_CRYPTO_ERROR | GNUTLS_A_CERTIFICATE_REVOKED);

  const ConnectionEnding app = ending_by_application(0x10, "shutting down");
  EXPECT_EQ(app.error.code(), Errc::ConnectionClosed);
  auto application = to_ngtcp2(app.close);
  EXPECT_EQ(application.type, NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION);
  EXPECT_EQ(application.error_code, 0x10u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(application.reason), application.reasonlen),
            "shutting down");

  CloseReason library;
  library.library_error = NGTCP2_ERR_PROTO;
  EXPECT_EQ(to_ngtcp2(library).error_code,
            ngtcp2_err_infer_quic_transport_error_code(NGTCP2_ERR_PROTO));
}

TEST(ConnectionErrorsTest, EveryEndingNamesItsCauseAndWhoseWordItWas) {
  ReadFailure failure;
  failure.rv = NGTCP2_ERR_DRAINING;
  failure.peer_close = application_close(0x11, "revoked");
  auto revoked = ending_after_read(failure, client(false));
  EXPECT_EQ(revoked->cause, CloseCause::Revoked);
  EXPECT_TRUE(revoked->by_peer);
  failure.peer_close = application_close(0x10, "shutting down");
  EXPECT_EQ(ending_after_read(failure, client(false))->cause, CloseCause::ShuttingDown);
  failure.peer_close = application_close(0x0, "");
  EXPECT_EQ(ending_after_read(failure, server())->cause, CloseCause::NoError);
  failure.peer_close = application_close(0x7, "");
  EXPECT_EQ(ending_after_read(failure, server())->cause, CloseCause::ApplicationError);
  failure.peer_close = alert_close(GNUTLS_A_BAD_CERTIFICATE);
  EXPECT_EQ(ending_after_read(failure, server())->cause, CloseCause::TlsAlert);
  ngtcp2_connection_close_error_set_transport_error(&failure.peer_close, NGTCP2_NO_ERROR, nullptr,
                                                    0);
  EXPECT_EQ(ending_after_read(failure, server())->cause, CloseCause::NoError);
  ngtcp2_connection_close_error_set_transport_error(&failure.peer_close, NGTCP2_PROTOCOL_VIOLATION,
                                                    nullptr, 0);
  EXPECT_EQ(ending_after_read(failure, server())->cause, CloseCause::TransportError);
  failure.stateless_reset = true;
  auto reset = ending_after_read(failure, client(false));
  EXPECT_EQ(reset->cause, CloseCause::StatelessReset);
  EXPECT_TRUE(reset->by_peer);

  auto idle = ending_after_expiry(NGTCP2_ERR_IDLE_CLOSE, server(), Limits{});
  EXPECT_EQ(idle.cause, CloseCause::IdleTimeout);
  EXPECT_FALSE(idle.by_peer) << "a timeout is ours";
  auto ours = ending_by_application(0x11, "revoked");
  EXPECT_EQ(ours.cause, CloseCause::Revoked);
  EXPECT_FALSE(ours.by_peer);
  EXPECT_EQ(ending_by_application(0x10, "").cause, CloseCause::ShuttingDown);
  EXPECT_EQ(ending_after_write(NGTCP2_ERR_NOMEM, server()).cause, CloseCause::TransportError);
  EXPECT_EQ(close_cause_name(CloseCause::IdleTimeout), "idle_timeout");
  EXPECT_EQ(close_cause_name(CloseCause::StatelessReset), "stateless_reset");
}

TEST(ConnectionErrorsTest, StartAndStreamErrors) {
  EXPECT_EQ(stream_open_error(NGTCP2_ERR_STREAM_ID_BLOCKED, 100).code(), Errc::StreamLimitReached);
  EXPECT_TRUE(contains(stream_open_error(NGTCP2_ERR_STREAM_ID_BLOCKED, 100).message(), "100 open"));
  EXPECT_EQ(stream_open_error(NGTCP2_ERR_NOMEM, 1).code(), Errc::Internal);
  EXPECT_EQ(connection_start_error(false, NGTCP2_ERR_NOMEM, "127.0.0.1:7444").code(),
            Errc::ConnectStartFailed);
  EXPECT_EQ(connection_start_error(true, NGTCP2_ERR_NOMEM, "127.0.0.1:40000").code(),
            Errc::Internal);
}

}  // namespace
}  // namespace palyra::transport
