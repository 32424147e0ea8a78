// `palyra events`' cursor file: a bad one is a one-line error naming it,
// before anything is sent (no daemon is needed).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "../common/bad_files.hpp"
#include "../common/quoted_path.hpp"

namespace palyra::cli {
namespace {

using palyra::testing::BadFilesTest;

using palyra::testing::quoted;

// The cursor is read before anything is sent: no daemon is needed.
TEST_F(BadFilesTest, EventsCursor) {
  put(dir_ / "cursor", "seven\n");
  expect_one_line(palyra({"events", "--cursor", (dir_ / "cursor").string()}),
                  {quoted(dir_ / "cursor"), "does not hold a sequence number"});
  put(dir_ / "cursor", "99999999999999999999999\n");
  expect_one_line(palyra({"events", "--cursor", (dir_ / "cursor").string()}), {"cursor"});
  std::filesystem::create_directory(dir_ / "cursor.d");
  expect_one_line(palyra({"events", "--cursor", (dir_ / "cursor.d").string()}),
                  {"cursor file", quoted(dir_ / "cursor.d")});
  // std::filesystem::exists() throws on a loop (ELOOP) rather than say no.
  std::filesystem::create_symlink(dir_ / "loop", dir_ / "loop");
  expect_one_line(palyra({"events", "--cursor", (dir_ / "loop").string()}),
                  {"cursor file", quoted(dir_ / "loop")});
}

}  // namespace
}  // namespace palyra::cli
