// The cluster's shared state against a real nats-server on loopback, two
// (or three) SharedState objects each with its own connection, as gateways
// have: a revocation reaches another watcher, a one-use token is consumed
// once however many gateways race for it, and the ledger holds what every
// writer recorded.
#include "palyra/cluster/shared_state.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gateway_state_test.hpp"

namespace palyra::cluster {
namespace {

using namespace std::chrono_literals;

class SharedStateTest : public GatewayStateTest {
 protected:
  const std::string ca_hash_ = std::string(64, 'c');
};

// Fingerprints a watcher was told about, waited for with a bound.
class Seen {
 public:
  void add(std::string fingerprint) {
    std::lock_guard lock(mutex_);
    seen_.push_back(std::move(fingerprint));
    changed_.notify_all();
  }
  bool wait_for(const std::string& fingerprint, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      return std::find(seen_.begin(), seen_.end(), fingerprint) != seen_.end();
    });
  }
  std::vector<std::string> all() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> seen_;
};

TEST_F(SharedStateTest, ARevocationPublishedByOneGatewayReachesAnothersWatch) {
  auto a = gateway();
  auto b = gateway();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->publish_revocations({test_fingerprint(1)}, 1000).ok());
  Seen seen_by_b;
  auto initial = b->watch_revocations([&](std::string f) { seen_by_b.add(std::move(f)); });
  ASSERT_TRUE(initial.ok()) << initial.error().describe();
  EXPECT_EQ(*initial, std::vector<std::string>{test_fingerprint(1)})
      << "the bucket's content at start";

  ASSERT_TRUE(a->publish_revocations({test_fingerprint(2), test_fingerprint(3)}, 2000).ok());
  EXPECT_TRUE(seen_by_b.wait_for(test_fingerprint(2), 5s));
  EXPECT_TRUE(seen_by_b.wait_for(test_fingerprint(3), 5s));
  // Publishing one again (another gateway, a restart) is no news.
  ASSERT_TRUE(b->publish_revocations({test_fingerprint(1)}, 3000).ok());
  ASSERT_TRUE(a->publish_revocations({test_fingerprint(4)}, 4000).ok());
  ASSERT_TRUE(seen_by_b.wait_for(test_fingerprint(4), 5s));
  EXPECT_EQ(seen_by_b.all(), (std::vector<std::string>{test_fingerprint(2), test_fingerprint(3),
                                                       test_fingerprint(4)}));

  // A gateway that starts later reads all of it.
  auto c = gateway();
  ASSERT_TRUE(c);
  auto later = c->watch_revocations([](std::string) {});
  ASSERT_TRUE(later.ok());
  std::sort(later->begin(), later->end());
  EXPECT_EQ(*later, (std::vector<std::string>{test_fingerprint(1), test_fingerprint(2),
                                              test_fingerprint(3), test_fingerprint(4)}));
}

TEST_F(SharedStateTest, AOneUseTokenRacedForByTwoGatewaysIsConsumedOnce) {
  auto a = gateway();
  auto b = gateway();
  ASSERT_TRUE(a && b);
  const auto now = std::chrono::system_clock::now();
  for (int round = 0; round < 8; ++round) {
    auto token = a->tokens()->create({600s, 1, {}}, ca_hash_, now);
    ASSERT_TRUE(token.ok()) << token.error().describe();
    std::atomic<int> wins{0};
    std::atomic<bool> go{false};
    std::vector<std::string> reasons(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      auto store = (i % 2 == 0 ? a : b)->tokens();
      threads.emplace_back([&, store, i] {
        while (!go) std::this_thread::yield();
        auto consumed = store->consume({token->id, token->secret}, now);
        if (consumed) {
          ++wins;
        } else {
          reasons[static_cast<std::size_t>(i)] = consumed.error().message();
        }
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(wins.load(), 1) << "round " << round;
    for (const auto& reason : reasons) {
      if (!reason.empty()) {
        EXPECT_NE(reason.find("used up"), std::string::npos) << reason;
      }
    }
  }
  auto listed = b->tokens()->list();
  ASSERT_TRUE(listed.ok()) << listed.error().describe();
  EXPECT_EQ(listed->size(), 8u);
  for (const auto& record : *listed) EXPECT_EQ(record.uses_left, 0u);
}

TEST_F(SharedStateTest, TokensAreListedRevokedAndRefusedWithTheReasonAcrossGateways) {
  auto a = gateway();
  auto b = gateway();
  ASSERT_TRUE(a && b);
  const auto now = std::chrono::system_clock::now();
  auto token = a->tokens()->create({600s, 3, "node-7"}, ca_hash_, now);
  ASSERT_TRUE(token.ok());
  auto listed = b->tokens()->list();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].device_id, std::optional<std::string>("node-7"));
  EXPECT_EQ((*listed)[0].uses_left, 3u);
  EXPECT_NE(a->tokens()
                ->consume({token->id, std::string(32, '0')}, now)
                .error()
                .message()
                .find("wrong secret"),
            std::string::npos);
  EXPECT_TRUE(b->tokens()->revoke(token->id).ok());
  auto refused = a->tokens()->consume({token->id, token->secret}, now);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("revoked"), std::string::npos);
  auto unknown = a->tokens()->consume({"00000000", token->secret}, now);
  EXPECT_NE(unknown.error().message().find("unknown id"), std::string::npos);
  EXPECT_EQ(a->tokens()->revoke("00000000").error().code(), Errc::NotFound);
}

TEST_F(SharedStateTest, LedgerEntriesFromTwoWritersAreAllThereAndRevocationMarksThem) {
  auto a = gateway();
  auto b = gateway();
  ASSERT_TRUE(a && b);
  auto entry = [](int n) {
    identity::LedgerEntry e;
    e.kind = "device";
    e.device_id = "node-" + std::to_string(n);
    e.subject = e.device_id;
    e.fingerprint = test_fingerprint(n);
    e.not_before_unix = n;
    e.not_after_unix = n + 3600;
    return e;
  };
  std::thread writer_a([&] {
    for (int n = 0; n < 20; ++n) EXPECT_TRUE(a->record_issued(entry(n)).ok());
  });
  std::thread writer_b([&] {
    for (int n = 20; n < 40; ++n) EXPECT_TRUE(b->record_issued(entry(n)).ok());
  });
  writer_a.join();
  writer_b.join();
  auto ledger = a->ledger();
  ASSERT_TRUE(ledger.ok()) << ledger.error().describe();
  ASSERT_EQ(ledger->size(), 40u);
  for (int n = 0; n < 40; ++n) {
    EXPECT_EQ((*ledger)[static_cast<std::size_t>(n)].fingerprint, test_fingerprint(n));
    EXPECT_FALSE((*ledger)[static_cast<std::size_t>(n)].revoked_at_unix);
  }

  // Gateway b's own ledger says 25 was revoked there (and holds one more).
  auto revoked = entry(25);
  revoked.revoked_at_unix = 777;
  ASSERT_TRUE(b->merge_ledger({revoked, entry(40)}).ok());
  auto marked = a->ledger();
  ASSERT_TRUE(marked.ok());
  ASSERT_EQ(marked->size(), 41u);
  EXPECT_EQ((*marked)[25].revoked_at_unix, std::optional<std::int64_t>(777));
  // The first revocation time stays.
  revoked.revoked_at_unix = 999;
  ASSERT_TRUE(a->merge_ledger({revoked}).ok());
  EXPECT_EQ((*b->ledger())[25].revoked_at_unix, std::optional<std::int64_t>(777));
}

TEST_F(SharedStateTest, WithoutCreatingOnlyExistingBucketsAreUsed) {
  SharedStateOptions options;
  options.servers.urls = {server_->url()};
  auto missing = SharedState::open(options);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::NotFound);
  EXPECT_NE(missing.error().message().find(kRevokedBucket), std::string::npos);
  ASSERT_TRUE(gateway());
  EXPECT_TRUE(SharedState::open(options).ok());
}

}  // namespace
}  // namespace palyra::cluster
