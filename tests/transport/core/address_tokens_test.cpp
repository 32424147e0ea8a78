// NEW_TOKEN tokens on their own (RFC 9000 §8.1.3): what a token proves, for
// whom and for how long. The io tests (new_token_test.cpp) show the server
// and client using them.
#include "address_tokens.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <span>
#include <string>

#include "palyra/transport/server_secret.hpp"

namespace palyra::transport {
namespace {

using namespace std::chrono_literals;

std::span<const std::uint8_t> bytes(const std::string& token) {
  return {reinterpret_cast<const std::uint8_t*>(token.data()), token.size()};
}

SocketAddress address(const char* text) {
  return SocketAddress::parse(text).value();
}

class AddressTokensTest : public ::testing::Test {
 protected:
  ServerKeys keys_ = ServerKeys::derive(generate_server_secret()).value();
  SystemTime issued_ = std::chrono::system_clock::now();
};

TEST_F(AddressTokensTest, ProvesTheIpAddressOfAnyPortWithinItsLifetime) {
  const std::string token = make_new_token(address("192.0.2.7:4000"), keys_, issued_);
  ASSERT_FALSE(token.empty());
  EXPECT_TRUE(is_new_token(bytes(token)));
  EXPECT_TRUE(verify_new_token(bytes(token), address("192.0.2.7:4000"), keys_, issued_));
  // A new socket or a NAT's new mapping: another port, same address.
  EXPECT_TRUE(verify_new_token(bytes(token), address("192.0.2.7:5123"), keys_,
                               issued_ + kNewTokenLifetime - 1s));
}

TEST_F(AddressTokensTest, RefusesAnotherAddressOrFamily) {
  const std::string token = make_new_token(address("192.0.2.7:4000"), keys_, issued_);
  EXPECT_FALSE(verify_new_token(bytes(token), address("192.0.2.8:4000"), keys_, issued_));
  EXPECT_FALSE(verify_new_token(bytes(token), address("[::1]:4000"), keys_, issued_));
  const std::string v6 = make_new_token(address("[2001:db8::1]:4000"), keys_, issued_);
  EXPECT_TRUE(verify_new_token(bytes(v6), address("[2001:db8::1]:9"), keys_, issued_));
  EXPECT_FALSE(verify_new_token(bytes(v6), address("[2001:db8::2]:4000"), keys_, issued_));
}

TEST_F(AddressTokensTest, ExpiresAfterItsLifetime) {
  const std::string token = make_new_token(address("192.0.2.7:4000"), keys_, issued_);
  EXPECT_FALSE(verify_new_token(bytes(token), address("192.0.2.7:4000"), keys_,
                                issued_ + kNewTokenLifetime));
}

TEST_F(AddressTokensTest, RefusesForgeriesAndOtherSecrets) {
  const auto client = address("192.0.2.7:4000");
  std::string token = make_new_token(client, keys_, issued_);
  // Another server's secret (or ours after a rotation).
  auto other = ServerKeys::derive(generate_server_secret()).value();
  EXPECT_FALSE(verify_new_token(bytes(token), client, other, issued_));
  // One flipped bit anywhere after the magic byte.
  for (std::size_t i = 1; i < token.size(); ++i) {
    std::string flipped = token;
    flipped[i] = static_cast<char>(flipped[i] ^ 1);
    EXPECT_FALSE(verify_new_token(bytes(flipped), client, keys_, issued_)) << "byte " << i;
  }
  // Truncated, and a Retry token's magic byte.
  EXPECT_FALSE(verify_new_token(bytes(token.substr(0, token.size() - 1)), client, keys_, issued_));
  std::string retry_kind = token;
  retry_kind[0] = static_cast<char>(0xb6);
  EXPECT_FALSE(is_new_token(bytes(retry_kind)));
  EXPECT_FALSE(verify_new_token(bytes(retry_kind), client, keys_, issued_));
}

TEST(ServerKeysNewTokenTest, NewTokenKeyIsApartFromTheRetryKey) {
  const auto keys = ServerKeys::derive(generate_server_secret()).value();
  const auto retry = keys.token_key();
  const auto new_token = keys.new_token_key();
  EXPECT_FALSE(std::equal(retry.begin(), retry.end(), new_token.begin()));
}

}  // namespace
}  // namespace palyra::transport
