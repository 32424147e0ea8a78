// palyra: the operator and node CLI. See `palyra --help`.
#include <CLI/CLI.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
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
