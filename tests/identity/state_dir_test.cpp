// Where the state directory is when --state-dir is not given:
// $PALYRA_STATE_DIR, else $XDG_STATE_HOME/palyra, else ~/.local/state/palyra.
#include "palyra/identity/state_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace palyra::identity {
namespace {

// Sets (or, with nullopt, unsets) an environment variable for one test and
// puts the old value back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(StateDirTest, TheDefaultFollowsTheEnvironmentInOrder) {
  ScopedEnv home("HOME", "/home/op");
  ScopedEnv xdg("XDG_STATE_HOME", "/xdg/state");
  {
    ScopedEnv explicit_dir("PALYRA_STATE_DIR", "/srv/palyra");
    EXPECT_EQ(default_state_dir(), "/srv/palyra");
  }
  ScopedEnv no_explicit("PALYRA_STATE_DIR", std::nullopt);
  EXPECT_EQ(default_state_dir(), "/xdg/state/palyra");
  {
    ScopedEnv empty_xdg("XDG_STATE_HOME", "");
    EXPECT_EQ(default_state_dir(), "/home/op/.local/state/palyra");
  }
  ScopedEnv no_xdg("XDG_STATE_HOME", std::nullopt);
  EXPECT_EQ(default_state_dir(), "/home/op/.local/state/palyra");
}

TEST(StateDirTest, AnOptionWinsOverTheDefault) {
  ScopedEnv explicit_dir("PALYRA_STATE_DIR", "/srv/palyra");
  EXPECT_EQ(state_dir_or_default("/given").root, "/given");
  EXPECT_EQ(state_dir_or_default("").root, "/srv/palyra");
  EXPECT_EQ(state_dir_or_default("/given").ledger(), "/given/ledger.json");
}

}  // namespace
}  // namespace palyra::identity
