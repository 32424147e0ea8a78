// palyra: the operator and node CLI. See `palyra --help`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "commands.hpp"

namespace {

int run(int argc, char** argv) {
  CLI::App app{"palyra: certificates, health checks and events for a palyrad daemon"};
  app.require_subcommand(1);
  palyra::cli::CommandContext context;
  palyra::cli::add_identity_commands(app, context);
  palyra::cli::add_enrollment_commands(app, context);
  palyra::cli::add_client_commands(app, context);
  palyra::cli::add_bench_commands(app, context);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? palyra::cli::kExitOk : palyra::cli::kExitUsage;
  }
  return context.exit_code;
}

}  // namespace

// Commands report what they expect as values with their own messages; this
// catches what escapes anyway (an allocation failure, a library's exception)
// so it still ends as one line and an exit code, not an abort.
int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "palyra: unexpected error: %s\n", e.what());
    return palyra::cli::kExitFailure;
  }
}
