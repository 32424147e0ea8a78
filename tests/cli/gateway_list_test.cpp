// Several gateways in one --connect: each address its own server name and
// pin, in order; the options that reach one gateway only refuse a list; and
// the one line that names every gateway tried when none answered.
#include <gtest/gtest.h>

#include <string>

#include "../../src/cli/connection_options.hpp"
#include "../../src/cli/gateway_failover.hpp"

namespace palyra::cli {
namespace {

ConnectionOptions anonymous(const std::string& connect) {
  ConnectionOptions options;
  options.connect = connect;
  options.anonymous = true;
  return options;
}

TEST(GatewayListTest, EachAddressIsAGatewayWithItsOwnServerNameInOrder) {
  auto resolved = resolve(anonymous("10.0.0.1:7444, [::1]:7445,gateway-3.example:7446"));
  ASSERT_FALSE(resolved.ok()) << "a host name is not an address";
  auto two = resolve(anonymous("10.0.0.1:7444, [::1]:7445"));
  ASSERT_TRUE(two.ok()) << two.error().describe();
  ASSERT_EQ(two->gateways.size(), 2u);
  EXPECT_EQ(two->gateways[0].address.to_string(), "10.0.0.1:7444");
  EXPECT_EQ(two->gateways[0].server_name, "10.0.0.1");
  EXPECT_EQ(two->gateways[1].address.to_string(), "[::1]:7445");
  EXPECT_EQ(two->gateways[1].server_name, "::1");
  // The connection starts at the first, and at_gateway aims it at another.
  EXPECT_EQ(two->address.to_string(), "10.0.0.1:7444");
  EXPECT_EQ(two->tls.server_name, "10.0.0.1");
  auto second = at_gateway(*two, 1);
  EXPECT_EQ(second.gateway, 1u);
  EXPECT_EQ(second.address.to_string(), "[::1]:7445");
  EXPECT_EQ(second.tls.server_name, "::1");
  EXPECT_EQ(at_gateway(*two, 2).address.to_string(), "10.0.0.1:7444") << "wraps around";

  auto named = anonymous("10.0.0.1:7444,10.0.0.2:7444");
  named.server_name = "gateway.example";
  auto given = resolve(named);
  ASSERT_TRUE(given.ok()) << given.error().describe();
  EXPECT_EQ(given->gateways[1].server_name, "gateway.example");
}

TEST(GatewayListTest, OnePinForAllOrOnePerAddressInOrder) {
  const std::string a(64, 'a'), b(64, 'b');
  auto shared = anonymous("10.0.0.1:7444,10.0.0.2:7444");
  shared.pin_sha256 = a;
  auto one = resolve(shared);
  ASSERT_TRUE(one.ok()) << one.error().describe();
  EXPECT_EQ(one->gateways[0].pinned_sha256, a);
  EXPECT_EQ(one->gateways[1].pinned_sha256, a);

  auto each = shared;
  each.pin_sha256 = a + "," + b;
  auto two = resolve(each);
  ASSERT_TRUE(two.ok()) << two.error().describe();
  EXPECT_EQ(two->gateways[0].pinned_sha256, a);
  EXPECT_EQ(two->gateways[1].pinned_sha256, b);
  EXPECT_EQ(at_gateway(*two, 1).tls.pinned_sha256, b);

  auto three = shared;
  three.pin_sha256 = a + "," + b + "," + a;
  auto refused = resolve(three);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Errc::InvalidArgument);
  EXPECT_NE(refused.error().message().find("3 fingerprints for 2 --connect addresses"),
            std::string::npos)
      << refused.error().message();
}

TEST(GatewayListTest, ABadAddressIsNamedByItsPlaceAndTheFallbackTakesOne) {
  auto bad = resolve(anonymous("10.0.0.1:7444,nowhere"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Errc::InvalidArgument);
  EXPECT_NE(bad.error().message().find("address 2 'nowhere'"), std::string::npos)
      << bad.error().message();
  EXPECT_FALSE(resolve(anonymous("10.0.0.1:7444,")).ok()) << "an empty entry";

  auto fallback = anonymous("10.0.0.1:7444,10.0.0.2:7444");
  fallback.fallback = "tcp";
  auto refused = resolve(fallback);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("--fallback tcp takes one --connect address"),
            std::string::npos)
      << refused.error().message();
  auto single = anonymous("10.0.0.1:7444");
  single.fallback = "tcp";
  EXPECT_TRUE(resolve(single).ok());
}

TEST(GatewayListTest, NoGatewayAnsweredNamesEachInOrderWithTheDecisiveCode) {
  auto two = resolve(anonymous("10.0.0.1:7444,10.0.0.2:7444"));
  ASSERT_TRUE(two.ok());
  const Error timeout(Errc::HandshakeTimeout, "no QUIC handshake within 10 ms");
  const Error refused(Errc::PinnedCertificateMismatch, "expected aa, got bb");
  auto both_down = no_gateway_answered(*two, {{0, timeout}, {1, timeout}});
  EXPECT_EQ(both_down.code(), Errc::HandshakeTimeout) << "waiting may help: a follower retries";
  EXPECT_EQ(both_down.message(),
            "no gateway answered (2 tried): 10.0.0.1:7444 (server name 10.0.0.1): "
            "HandshakeTimeout: no QUIC handshake within 10 ms; 10.0.0.2:7444 (server name "
            "10.0.0.2): HandshakeTimeout: no QUIC handshake within 10 ms");
  auto one_refused = no_gateway_answered(*two, {{1, refused}, {0, timeout}});
  EXPECT_EQ(one_refused.code(), Errc::PinnedCertificateMismatch);
  EXPECT_LT(one_refused.message().find("10.0.0.2:7444"), one_refused.message().find("10.0.0.1"));

  auto single = resolve(anonymous("10.0.0.1:7444"));
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(no_gateway_answered(*single, {{0, timeout}}).message(),
            "cannot connect to 10.0.0.1:7444 (server name 10.0.0.1): no QUIC handshake within "
            "10 ms");
}

TEST(GatewayListTest, OnlyAGatewayGoneIsLostAndOnlyLocalFailuresStopTheList) {
  for (Errc lost : {Errc::HandshakeTimeout, Errc::ConnectStartFailed, Errc::ConnectionClosed,
                    Errc::StreamReset, Errc::Timeout, Errc::FrameReadFailed}) {
    EXPECT_TRUE(lost_the_gateway(Error(lost, ""))) << errc_name(lost);
    EXPECT_FALSE(is_local_failure(Error(lost, ""))) << errc_name(lost);
  }
  for (Errc refused : {Errc::ConnectFailed, Errc::PinnedCertificateMismatch}) {
    EXPECT_FALSE(lost_the_gateway(Error(refused, ""))) << errc_name(refused);
    EXPECT_FALSE(is_local_failure(Error(refused, ""))) << "another gateway is checked alike";
  }
  for (Errc local : {Errc::TlsConfigurationFailed, Errc::CertificateParsingFailed,
                     Errc::ClientIdentityIncomplete, Errc::IoFailed}) {
    EXPECT_TRUE(is_local_failure(Error(local, ""))) << errc_name(local);
  }
}

}  // namespace
}  // namespace palyra::cli
