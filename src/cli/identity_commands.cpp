// Placeholder: the identity commands land with the identity library.
#include "commands.hpp"

namespace palyra::cli {
void add_identity_commands(CLI::App&, CommandContext&) {}
}  // namespace palyra::cli
