// log.format = json: each text line's words become "message" and its
// key=value pairs fields, under the stable names operators index on.
#include "json_log.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace palyra::daemon {
namespace {

using nlohmann::json;

// 2026-11-29T22:58:01.123Z
const auto kTime = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795993081123));

TEST(JsonLogTest, PairsBecomeFieldsUnderTheirStableNames) {
  const auto line = json::parse(json_log_line(
      kTime, "info", "connection accepted peer=127.0.0.1:5000 device_id=node-1 cert_sha256=ab12"));
  EXPECT_EQ(line["time"], "2026-11-29T22:58:01.123Z");
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["message"], "connection accepted");
  EXPECT_EQ(line["peer"], "127.0.0.1:5000");
  EXPECT_EQ(line["device_id"], "node-1");
  EXPECT_EQ(line["fingerprint"], "ab12");
  EXPECT_FALSE(line.contains("cert_sha256"));
}

TEST(JsonLogTest, AQuotedReasonIsTheErrorWithItsQuotesAndSpacesKept) {
  const auto line = json::parse(json_log_line(
      kTime, "warn",
      R"(connection refused peer=[::1]:7 reason="certificate revoked: \"node-2\" at 12:00")"));
  EXPECT_EQ(line["message"], "connection refused");
  EXPECT_EQ(line["peer"], "[::1]:7");
  EXPECT_EQ(line["error"], R"(certificate revoked: "node-2" at 12:00)");
}

TEST(JsonLogTest, WordsAroundThePairsStayInTheMessageAndPunctuationIsTheSentences) {
  const auto line = json::parse(json_log_line(
      kTime, "info",
      "server certificate reloaded (SIGHUP): cert_sha256=ff00; 3 live connection(s) keep theirs"));
  EXPECT_EQ(line["message"],
            "server certificate reloaded (SIGHUP): 3 live connection(s) keep theirs");
  EXPECT_EQ(line["fingerprint"], "ff00");
}

TEST(JsonLogTest, ALineWithoutPairsIsAllMessageAndTheKeysComeInOrder) {
  const std::string text = json_log_line(kTime, "info", "stopped");
  EXPECT_EQ(text, R"({"time":"2026-11-29T22:58:01.123Z","level":"info","message":"stopped"})");
}

TEST(JsonLogTest, BytesThatAreNotUtf8AreReplacedNotThrown) {
  const std::string text = json_log_line(kTime, "debug", "unreadable request name=\xff\xfe");
  const auto line = json::parse(text);
  EXPECT_EQ(line["name"], "\xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace palyra::daemon
