// gRPC's peer URIs become the "address:port" form QUIC's callers have, which
// the logs and the enrollment failure limit key on.
#include "call_peer.hpp"

#include <gtest/gtest.h>

namespace palyra::fallback {
namespace {

TEST(PeerAddress, Ipv4LosesOnlyTheScheme) {
  EXPECT_EQ(peer_address("ipv4:127.0.0.1:5000"), "127.0.0.1:5000");
}

TEST(PeerAddress, Ipv6GetsItsBracketsBack) {
  EXPECT_EQ(peer_address("ipv6:%5B::1%5D:5000"), "[::1]:5000");
  EXPECT_EQ(peer_address("ipv6:%5bfe80::1%25lo%5d:443"), "[fe80::1%lo]:443");
}

TEST(PeerAddress, OtherSchemesAndStrayPercentsAreLeftAlone) {
  EXPECT_EQ(peer_address("unix:/run/x.sock"), "unix:/run/x.sock");
  EXPECT_EQ(peer_address("ipv4:1.2.3.4:5%"), "1.2.3.4:5%");
  EXPECT_EQ(peer_address("ipv4:1.2.3.4:5%41"), "1.2.3.4:5%41");
}

}  // namespace
}  // namespace palyra::fallback
