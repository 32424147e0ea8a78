// The daemon's enrollment tokens in tokens.json: created, listed, revoked,
// consumed exactly once, pruned, and a corrupt file is a one-line error.
#include "palyra/identity/token_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "../common/bad_files.hpp"
#include "identity_fixture.hpp"
#include "palyra/common/atomic_file.hpp"

namespace palyra::identity {
namespace {

using namespace std::chrono_literals;
using palyra::testing::BadFilesTest;

class TokenStoreTest : public palyra::testing::IdentityDirTest {
 protected:
  const std::string ca_hash_ = std::string(64, 'c');
  const SystemTime now_ = std::chrono::system_clock::now();
  PresentedToken presented(const EnrollmentToken& t) { return {t.id, t.secret}; }
};

TEST_F(TokenStoreTest, CreateListRevokeAndTheFileHoldsNoSecret) {
  FileTokenStore store(state());
  EXPECT_TRUE(store.list()->empty());
  auto token = store.create({600s, 2, "node-9"}, ca_hash_, now_);
  ASSERT_TRUE(token.ok()) << token.error().describe();
  EXPECT_TRUE(parse_enrollment_token(token->text()).ok());
  EXPECT_EQ(token->ca_hash, ca_hash_);
  auto records = store.list();
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].id, token->id);
  EXPECT_EQ((*records)[0].uses_left, 2u);
  EXPECT_EQ((*records)[0].device_id, std::optional<std::string>("node-9"));
  EXPECT_EQ((*records)[0].expires_unix - (*records)[0].created_unix, 600);
  auto text = *read_file(state().tokens());
  EXPECT_EQ(text.find(token->secret), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(state().tokens().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  EXPECT_TRUE(store.revoke(token->id).ok());
  EXPECT_TRUE((*store.list())[0].revoked);
  auto refused = store.consume(presented(*token), now_);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("revoked"), std::string::npos);
  auto missing = store.revoke("00000000");
  EXPECT_EQ(missing.error().code(), Errc::NotFound);
  EXPECT_NE(missing.error().message().find("00000000"), std::string::npos);

  EXPECT_EQ(store.create({600s, 0, {}}, ca_hash_, now_).error().code(), Errc::InvalidArgument);
  EXPECT_EQ(store.create({0s, 1, {}}, ca_hash_, now_).error().code(), Errc::InvalidArgument);
  EXPECT_EQ(store.create({600s, 1, "a b"}, ca_hash_, now_).error().code(), Errc::InvalidDeviceId);
  EXPECT_EQ(store.create({600s, 1, {}}, "short", now_).error().code(), Errc::InvalidArgument);
}

TEST_F(TokenStoreTest, ConsumeRefusesEachWayWithThePreciseReason) {
  FileTokenStore store(state());
  auto token = *store.create({600s, 1, {}}, ca_hash_, now_);
  auto reason = [&](const PresentedToken& p, SystemTime at) {
    auto r = store.consume(p, at);
    return r.ok() ? std::string("accepted") : r.error().message();
  };
  EXPECT_NE(reason({"00000000", token.secret}, now_).find("unknown id"), std::string::npos);
  // One flipped digit, first and last: the comparison must cover it all.
  for (std::size_t at : {std::size_t{0}, token.secret.size() - 1}) {
    auto wrong = token.secret;
    wrong[at] = wrong[at] == '0' ? '1' : '0';
    EXPECT_NE(reason({token.id, wrong}, now_).find("wrong secret"), std::string::npos);
  }
  EXPECT_NE(reason(presented(token), now_ + 601s).find("expired"), std::string::npos);
  EXPECT_EQ((*store.list())[0].uses_left, 1u) << "a refusal uses nothing";
  // The caller's own check (the device id) refuses without using the token up.
  auto declined = store.consume(presented(token), now_ + 1s, [](const TokenRecord&) -> Status {
    return Error(Errc::AlreadyExists, "device id 'x' is taken");
  });
  ASSERT_FALSE(declined.ok());
  EXPECT_NE(declined.error().message().find("device id 'x' is taken"), std::string::npos);
  EXPECT_EQ((*store.list())[0].uses_left, 1u) << "a declined token keeps its use";

  auto consumed = store.consume(presented(token), now_ + 1s);
  ASSERT_TRUE(consumed.ok()) << consumed.error().describe();
  EXPECT_EQ(consumed->uses_left, 0u);
  EXPECT_EQ((*store.list())[0].uses_left, 0u) << "written before returning";
  EXPECT_NE(reason(presented(token), now_ + 2s).find("used up"), std::string::npos);
  EXPECT_EQ(reason(presented(token), now_ + 2s).find(token.secret), std::string::npos);
}

TEST_F(TokenStoreTest, UnusableRecordsArePrunedAfterADay) {
  FileTokenStore store(state());
  auto old = *store.create({60s, 1, {}}, ca_hash_, now_);
  ASSERT_TRUE(store.consume(presented(old), now_).ok());
  auto live = *store.create({48h, 1, {}}, ca_hash_, now_ + 2h);
  EXPECT_EQ(store.list()->size(), 2u) << "kept within the day";
  ASSERT_TRUE(store.create({48h, 1, {}}, ca_hash_, now_ + 25h).ok());
  auto records = *store.list();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].id, live.id);
}

// The race the lock exists for: many threads present the same one-use
// token at once; exactly one may enroll.
TEST_F(TokenStoreTest, ConcurrentConsumersOfAOneUseTokenExactlyOneWins) {
  for (int round = 0; round < 5; ++round) {
    FileTokenStore store(state());
    auto token = *store.create({600s, 1, {}}, ca_hash_, now_);
    std::atomic<int> wins{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&] {
        while (!go) std::this_thread::yield();
        FileTokenStore own(state());  // each its own store, as two processes would be
        if (own.consume(presented(token), now_).ok()) ++wins;
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(wins.load(), 1) << "round " << round;
  }
}

TEST_F(TokenStoreTest, CorruptFilesAreOneLineErrorsNamingTheFile) {
  FileTokenStore store(state());
  ASSERT_TRUE(ensure_private_directory(state().root).ok());
  const std::string good_hash(64, 'a');
  for (
      const std::string& text : std::vector<std::string>{
          std::string("{not json"),
          std::string("[]"),
          std::string(R"({"tokens":{}})"),
          std::string(R"({"tokens":[1]})"),
          R"({"tokens":[{"id":1,"secret_sha256":")" + good_hash +
              R"(","created_unix":0,"expires_unix":1,"uses_left":1}]})",
          R"({"tokens":[{"id":"0123abcd","secret_sha256":"short","created_unix":0,"expires_unix":1,"uses_left":1}]})",
          R"({"tokens":[{"id":"0123abcd","secret_sha256":")" + good_hash +
              R"(","created_unix":"0","expires_unix":1,"uses_left":1}]})",
          R"({"tokens":[{"id":"0123abcd","secret_sha256":")" + good_hash +
              R"(","created_unix":0,"expires_unix":1,"uses_left":-1}]})",
          R"({"tokens":[{"id":"0123abcd","secret_sha256":")" + good_hash +
              R"(","created_unix":0,"expires_unix":1,"uses_left":1,"revoked":"no"}]})",
          R"({"tokens":[{"id":"0123abcd","secret_sha256":")" + good_hash +
              R"(","created_unix":0,"expires_unix":1,"uses_left":1,"device_id":"a b"}]})",
      }) {
    ASSERT_TRUE(write_file_atomically(state().tokens(), text, 0600).ok());
    auto listed = store.list();
    ASSERT_FALSE(listed.ok()) << text;
    EXPECT_EQ(listed.error().code(), Errc::IoFailed);
    EXPECT_NE(listed.error().message().find("tokens.json"), std::string::npos);
    EXPECT_EQ(listed.error().message().find('\n'), std::string::npos);
    EXPECT_FALSE(store.consume({"0123abcd", std::string(32, '0')}, now_).ok());
  }
}

TEST_F(BadFilesTest, Tokens) {
  put(state_ / "tokens.json", R"({"tokens":[{"id":1}]})");
  expect_one_line(palyra({"token", "list"}), {"tokens.json"});
  put(state_ / "tokens.json", std::string("{\"tokens\":[]}\0garbage", 21));
  expect_one_line(palyra({"token", "list"}), {"tokens.json"});
}

}  // namespace
}  // namespace palyra::identity
