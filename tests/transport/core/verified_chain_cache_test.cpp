#include "verified_chain_cache.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace palyra::transport {
namespace {

VerifiedChainCache::Key key_for(std::string_view leaf, std::string_view issuer) {
  std::vector<std::span<const unsigned char>> chain{
      {reinterpret_cast<const unsigned char*>(leaf.data()), leaf.size()},
      {reinterpret_cast<const unsigned char*>(issuer.data()), issuer.size()}};
  return VerifiedChainCache::key_of(chain);
}

TEST(VerifiedChainCacheTest, KeyCoversEveryCertificateAndWhereOneEnds) {
  EXPECT_EQ(key_for("leaf", "ca").size(), 32u);
  EXPECT_EQ(key_for("leaf", "ca"), key_for("leaf", "ca"));
  EXPECT_NE(key_for("leaf", "ca"), key_for("leaf", "other ca"));
  EXPECT_NE(key_for("lea", "fca"), key_for("leaf", "ca"));  // same bytes, split differently
}

TEST(VerifiedChainCacheTest, GivesTheLeafNameOnlyInsideItsWindow) {
  VerifiedChainCache cache;
  const auto key = key_for("leaf", "ca");
  const std::time_t now = 1'000'000;
  cache.insert(key, now - 10, now + 100, "Palyra Device node-1", now);
  EXPECT_EQ(cache.find(key, now), "Palyra Device node-1");
  EXPECT_EQ(cache.find(key, now + 100), "Palyra Device node-1");
  EXPECT_FALSE(cache.find(key, now + 101)) << "after the leaf expired";
  EXPECT_FALSE(cache.find(key, now - 11)) << "before the leaf is valid";
  EXPECT_FALSE(cache.find(key_for("leaf", "other ca"), now));
  EXPECT_FALSE(cache.find({}, now)) << "no chain is never verified";
}

TEST(VerifiedChainCacheTest, EntriesAreReverifiedAfterTheMaximumAge) {
  VerifiedChainCache cache;
  const auto key = key_for("leaf", "ca");
  const std::time_t now = 1'000'000;
  cache.insert(key, now - 10, now + 365 * 86400, "Palyra Device node-1", now);
  EXPECT_TRUE(cache.find(key, now + VerifiedChainCache::kMaxAge.count()));
  EXPECT_FALSE(cache.find(key, now + VerifiedChainCache::kMaxAge.count() + 1));
}

}  // namespace
}  // namespace palyra::transport
