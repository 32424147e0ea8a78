// Every file palyra and palyrad read, made bad: each gives one line naming
// the file and what is wrong, and a plain failure exit, never an abort
// (nlohmann's get() and value() throw on a wrong type; an uncaught throw is
// std::terminate, exit 134). Each folder's tests make bad the files its code
// reads, in a state directory `palyra init` made (the target defines
// PALYRA_CLI, the path of the palyra binary).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "process.hpp"
#include "temp_dir.hpp"

namespace palyra::testing {

class BadFilesTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    state_ = dir_ / "state";
    auto init = palyra({"init"});
    ASSERT_EQ(init.status, 0) << init.err;
  }

  CommandResult palyra(std::vector<std::string> args) {
    args.insert(args.begin(), PALYRA_CLI);
    args.insert(args.end(), {"--state-dir", state_.string()});
    return palyra::testing::run_command(std::move(args), dir_);
  }

  void put(const std::filesystem::path& path, const std::string& contents) {
    std::ofstream(path, std::ios::trunc | std::ios::binary) << contents;
  }

  // One line on stderr holding every piece of `says`, exit 1.
  static void expect_one_line(const CommandResult& run, const std::vector<std::string>& says) {
    EXPECT_EQ(run.status, 1) << run.err;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
    for (const auto& piece : says) EXPECT_NE(run.err.find(piece), std::string::npos) << run.err;
  }

  std::filesystem::path state_;
};

}  // namespace palyra::testing
