// The server's keys, the reset budget and the Stateless Reset packet, each
// on its own (PROTOCOL.md §8).
#include <gtest/gtest.h>
#include <ngtcp2/ngtcp2.h>

#include <array>
#include <vector>

#include "palyra/transport/server_secret.hpp"
#include "stateless_packets.hpp"
#include "token_bucket.hpp"

namespace palyra::transport {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000;

std::array<std::uint8_t, 16> token_for(const ServerSecret& secret, std::vector<std::uint8_t> cid) {
  std::array<std::uint8_t, 16> token{};
  ServerKeys::derive(secret).value().stateless_reset_token(cid, token.data());
  return token;
}

TEST(ServerKeysTest, ResetTokenIsAFunctionOfSecretAndConnectionId) {
  const ServerSecret secret = generate_server_secret();
  const std::vector<std::uint8_t> cid(16, 7);
  // Same secret, same CID: same token (a restarted server recognises it).
  EXPECT_EQ(token_for(secret, cid), token_for(secret, cid));
  // Another CID, or another secret: another token.
  EXPECT_NE(token_for(secret, cid), token_for(secret, std::vector<std::uint8_t>(16, 8)));
  EXPECT_NE(token_for(secret, cid), token_for(generate_server_secret(), cid));
}

TEST(ServerKeysTest, SecretsAreFreshAndKeysAreSeparate) {
  EXPECT_NE(generate_server_secret(), generate_server_secret());
  const ServerSecret secret = generate_server_secret();
  auto keys = ServerKeys::derive(secret).value();
  auto again = ServerKeys::derive(secret).value();
  const auto key = keys.token_key();
  EXPECT_TRUE(std::equal(key.begin(), key.end(), again.token_key().begin()));
  // Neither the secret itself nor the reset key is used as the token key.
  EXPECT_FALSE(std::equal(key.begin(), key.end(), secret.begin()));
}

TEST(TokenBucketTest, BurstThenRate) {
  TokenBucket bucket(10, 10);
  std::uint64_t now = 5 * kSecond;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(bucket.take(now)) << i;
  EXPECT_FALSE(bucket.take(now));
  EXPECT_FALSE(bucket.take(now + kSecond / 20));  // half a token earned: not yet
  EXPECT_TRUE(bucket.take(now + kSecond / 10));   // one token per 100 ms
  EXPECT_FALSE(bucket.take(now + kSecond / 10));
  // A long pause refills to the burst, not beyond.
  now += 100 * kSecond;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(bucket.take(now)) << i;
  EXPECT_FALSE(bucket.take(now));
  // Time that runs backwards earns nothing.
  EXPECT_FALSE(bucket.take(now - kSecond));
}

TEST(StatelessResetPacketTest, SmallerThanTriggerAndEndsWithTheToken) {
  const ServerSecret secret = generate_server_secret();
  auto keys = ServerKeys::derive(secret).value();
  const std::vector<std::uint8_t> cid(16, 3);
  std::array<std::uint8_t, NGTCP2_MAX_UDP_PAYLOAD_SIZE> out{};
  EXPECT_EQ(write_stateless_reset(out, cid, kMinStatelessResetTrigger - 1, keys), 0u);
  for (std::size_t trigger : {kMinStatelessResetTrigger, std::size_t{100}, std::size_t{1200}}) {
    std::size_t n = write_stateless_reset(out, cid, trigger, keys);
    EXPECT_EQ(n, trigger - 1);
    const auto token = token_for(secret, cid);
    EXPECT_TRUE(std::equal(token.begin(), token.end(), out.begin() + static_cast<long>(n - 16)));
  }
}

}  // namespace
}  // namespace palyra::transport
