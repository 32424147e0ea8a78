// The issuance ledger: a corrupt ledger.json, or a time no clock holds, is
// an error naming the file and the field, never a crash.
#include "palyra/identity/ledger.hpp"

#include <gtest/gtest.h>

#include <string>

#include "../common/bad_files.hpp"
#include "identity_fixture.hpp"
#include "palyra/common/atomic_file.hpp"

namespace palyra::identity {
namespace {

using palyra::testing::BadFilesTest;

class LedgerTest : public palyra::testing::IdentityDirTest {};

TEST_F(LedgerTest, LedgerTimesBeyondTheClockAreAnErrorNamingTheField) {
  const std::string fp(64, 'a');
  auto entry = [&](const std::string& field, const std::string& value) {
    return R"([{"fingerprint":")" + fp + R"(",")" + field + R"(":)" + value + "}]";
  };
  for (const char* field : {"not_before_unix", "not_after_unix", "revoked_at_unix"}) {
    for (const char* value :
         {"253402300799", "-253402300799", "18446744073709551615", "1.5", "\"1\""}) {
      auto ledger = Ledger::parse(entry(field, value), dir_ / "ledger.json");
      ASSERT_FALSE(ledger.ok()) << field << " " << value;
      EXPECT_EQ(ledger.error().code(), Errc::IoFailed);
      EXPECT_NE(ledger.error().message().find("ledger.json"), std::string::npos);
      EXPECT_NE(ledger.error().message().find(field), std::string::npos)
          << ledger.error().message();
    }
    // The last second a SystemTime holds (2262) is still a time.
    auto edge = Ledger::parse(entry(field, "9223372036"), dir_ / "ledger.json");
    ASSERT_TRUE(edge.ok()) << edge.error().describe();
  }
}

TEST_F(LedgerTest, CorruptLedgerTypesAreAnErrorNotACrash) {
  ASSERT_TRUE(ensure_private_directory(state().root).ok());
  for (const char* text :
       {R"([{"fingerprint":"ab","sequence":"1"}])", R"([{"fingerprint":"ab","kind":7}])",
        R"([{"fingerprint":"ab","not_after_unix":1.5}])", R"([{"fingerprint":"ab","sequence":-1}])",
        R"([{"fingerprint":"ab","revoked_at_unix":"yesterday"}])", R"([{"fingerprint":2}])",
        R"([7])", R"({"a":1})"}) {
    ASSERT_TRUE(write_file_atomically(state().ledger(), text).ok());
    auto ledger = Ledger::load(state().ledger());
    ASSERT_FALSE(ledger.ok()) << text;
    EXPECT_EQ(ledger.error().code(), Errc::IoFailed);
    EXPECT_NE(ledger.error().message().find("ledger.json"), std::string::npos);
  }
}

TEST_F(BadFilesTest, Ledger) {
  put(state_ / "ledger.json", R"([{"fingerprint":"ab","sequence":"1"}])");
  expect_one_line(palyra({"cert", "list"}), {"ledger.json", "'sequence' is not an integer"});
  expect_one_line(palyra({"cert", "list", "--json"}), {"ledger.json", "sequence"});
  expect_one_line(palyra({"cert", "revoke", "--device", "node-1"}), {"ledger.json", "sequence"});
  // A time no clock holds would overflow when listed.
  put(state_ / "ledger.json", R"([{"fingerprint":"ab","not_after_unix":253402300799}])");
  expect_one_line(palyra({"cert", "list"}), {"ledger.json", "not_after_unix"});
  put(state_ / "ledger.json", "[{]");
  expect_one_line(palyra({"cert", "list"}), {"ledger.json", "not a JSON array"});
  // nlohmann stops at a NUL byte: what follows it must not be dropped unseen.
  put(state_ / "ledger.json", std::string("[]\0[{\"fingerprint\":\"ab\"}]", 25));
  expect_one_line(palyra({"cert", "list"}), {"ledger.json", "NUL byte at offset 2"});
}

}  // namespace
}  // namespace palyra::identity
