// Each command group registers its subcommands on the root app; main.cpp
// only wires the groups together. A handler stores the process exit code in
// the shared CommandContext (CLI11 callbacks return nothing).
#pragma once

#include <CLI/CLI.hpp>

namespace palyra::cli {

// Exit codes (documented in README.md and docs/OPERATIONS.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the operation failed; one line on stderr says why
inline constexpr int kExitUsage = 2;    // bad command line or bad input value

struct CommandContext {
  int exit_code = kExitOk;
};

// init, ca, cert: the gateway CA and its certificates (identity_commands.cpp).
void add_identity_commands(CLI::App& root, CommandContext& context);
// health, events, publish: node.* calls to a running daemon (client_commands.cpp).
void add_client_commands(CLI::App& root, CommandContext& context);
// token, enroll, cert renew: how a node joins and keeps its identity
// (enrollment_commands.cpp; call after add_identity_commands).
void add_enrollment_commands(CLI::App& root, CommandContext& context);
// bench: load figures (bench/bench_commands.cpp).
void add_bench_commands(CLI::App& root, CommandContext& context);

}  // namespace palyra::cli
