// beectl: the PackageBee control client. Everything it does lives in lib/cli.
#include "cli/beectl_main.hpp"

int main(int argc, char** argv) {
  return pb::cli::beectl_main(argc, argv);
}
