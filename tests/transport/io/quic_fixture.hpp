// The fixture the QUIC loopback tests share: real ngtcp2 + GnuTLS on both
// sides, a throwaway CA per test, port 0. Each refusal asserts the exact
// error the client sees and that no stream data reached the server.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "../../common/gnutls_time.hpp"
#include "../../common/manual_clock.hpp"
#include "../test_pki.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/revocation.hpp"
#include "palyra/transport/io/client.hpp"
#include "palyra/transport/io/fallback.hpp"
#include "palyra/transport/io/server.hpp"
#include "test_server.hpp"

namespace palyra::transport {

using namespace std::chrono_literals;
using testing::EchoServer;
using testing::TestPki;

class QuicTest : public ::testing::Test {
 protected:
  ServerTlsConfig server_tls() const { return pki_.server_tls(); }
  ClientTlsConfig client_tls() const {
    ClientTlsConfig tls = pki_.device_tls();
    tls.server_name = "localhost";
    return tls;
  }
  // The default client configuration, presenting another certificate.
  ClientTlsConfig client_tls_with(const TestPki::Pair& identity) const {
    ClientTlsConfig tls = client_tls();
    tls.cert_file = identity.cert;
    tls.key_file = identity.key;
    return tls;
  }
  static Limits quick_limits() {
    Limits limits;
    limits.handshake_timeout = 3s;
    return limits;
  }
  // One round trip on a fresh stream; returns what came back.
  static std::string echo(Client& client, const std::string& payload) {
    auto stream = client.open_stream();
    EXPECT_TRUE(stream.ok()) << stream.error().describe();
    if (!stream) return {};
    EXPECT_TRUE((*stream)->write_frame(payload).ok());
    (*stream)->finish();
    auto frame = client.read_frame(**stream, 10s);
    EXPECT_TRUE(frame.ok()) << frame.error().describe();
    if (!frame || !*frame) return {};
    std::string answer = std::move(**frame);
    auto end = client.read_frame(**stream, 10s);
    EXPECT_TRUE(end.ok() && !end->has_value()) << "expected the stream to end after one frame";
    return answer;
  }
  // Connects and expects a refusal: returns the error.
  Error refused(const ClientTlsConfig& tls, EchoServer& server,
                const Limits& limits = quick_limits()) {
    auto client = Client::connect(server.address(), tls, limits);
    EXPECT_FALSE(client.ok()) << "connection unexpectedly accepted";
    if (client.ok()) return Error(Errc::Internal, "accepted");
    return client.error();
  }

  TestPki pki_;
};

}  // namespace palyra::transport
