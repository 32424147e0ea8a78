// palyrad: the Palyra daemon. Lands with issue 4; see docs/ARCHITECTURE.md.
#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"palyrad: the Palyra daemon (QUIC node transport)"};
  CLI11_PARSE(app, argc, argv);
  return 0;
}
