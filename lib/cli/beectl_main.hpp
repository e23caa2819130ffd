// beectl's entry point: parse the command line, send one request to beed,
// print the reply and turn it into an exit status (cli/exit_codes.hpp).
#pragma once

#include <iosfwd>
#include <span>
#include <string>

namespace pb::cli {

int beectl_main(int argc, char** argv);

// The whole of beectl with its environment passed in, for tests: `args`
// excludes argv[0]; `socket_env` is $BEECTL_SOCKET or null.
int run_beectl(std::span<const std::string> args, const char* socket_env, std::ostream& out,
               std::ostream& err);

}  // namespace pb::cli
