// gateway.workers: where it is set, what 0 means, and what is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>

#include "../../src/daemon/config.hpp"

namespace palyra::daemon {
namespace {

using ::testing::HasSubstr;

TEST(ConfigWorkersTest, FileEnvironmentAndFlagSetIt) {
  EXPECT_EQ(load_config(std::nullopt, {}, {}).value().workers, 0u) << "default: one per CPU";
  EXPECT_EQ(load_config_text("[gateway]\nworkers = 3\n", "inline.toml").value().workers, 3u);
  EXPECT_EQ(load_config(std::nullopt, {"PALYRA_GATEWAY_WORKERS=2"}, {}).value().workers, 2u);
  EXPECT_EQ(
      load_config(std::nullopt, {"PALYRA_GATEWAY_WORKERS=2"}, {{"--workers", "4"}}).value().workers,
      4u);
}

TEST(ConfigWorkersTest, BadValuesAreRefusedInOneLine) {
  auto words = load_config(std::nullopt, {}, {{"--workers", "many"}});
  ASSERT_FALSE(words);
  EXPECT_THAT(words.error().describe(), HasSubstr("gateway.workers"));
  EXPECT_THAT(words.error().describe(), HasSubstr("'many'"));
  auto negative = load_config(std::nullopt, {"PALYRA_GATEWAY_WORKERS=-1"}, {});
  ASSERT_FALSE(negative);
  EXPECT_THAT(negative.error().describe(), HasSubstr("PALYRA_GATEWAY_WORKERS"));
  auto too_many = load_config_text("[gateway]\nworkers = 257\n", "inline.toml");
  ASSERT_FALSE(too_many);
  EXPECT_THAT(too_many.error().describe(), HasSubstr("gateway.workers (257) must be at most 256"));
  EXPECT_EQ(too_many.error().describe().find('\n'), std::string::npos);
}

TEST(ConfigWorkersTest, ZeroIsTheCpusThisProcessMayUse) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  ASSERT_EQ(::sched_getaffinity(0, sizeof cpus, &cpus), 0);
  EXPECT_EQ(quic_worker_count(0), static_cast<std::size_t>(CPU_COUNT(&cpus)));
  EXPECT_EQ(quic_worker_count(1), 1u);
  EXPECT_EQ(quic_worker_count(5), 5u);
}

}  // namespace
}  // namespace palyra::daemon
