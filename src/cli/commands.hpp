// Each command group registers its subcommands on the root app; main.cpp
// only wires the groups together. Handlers return the process exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace palyra::cli {

// Exit codes (documented in README.md and docs/OPERATIONS.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the operation failed; one line on stderr says why
inline constexpr int kExitUsage = 2;    // bad command line

}  // namespace palyra::cli
