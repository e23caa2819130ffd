// beectl's entry point: parse the command line, send one request to beed,
// print the reply and turn it into an exit status (cli/exit_codes.hpp).
#pragma once

#include <cstddef>
#include <iosfwd>
#include <span>
#include <string>

namespace pb::cli {

int beectl_main(int argc, char** argv);

// What beectl's stdout is: on a terminal, --wait redraws one progress line in
// place; elsewhere (a pipe to the journal, a file) it prints plain lines.
struct Terminal {
  bool is_tty = false;
  std::size_t columns = 80;
};
// stdout's: a terminal unless TERM=dumb, its width from TIOCGWINSZ.
Terminal detect_terminal();

// The whole of beectl with its environment passed in, for tests: `args`
// excludes argv[0]; `socket_env` is $BEECTL_SOCKET or null; `terminal`
// describes `out`.
int run_beectl(std::span<const std::string> args, const char* socket_env, std::ostream& out,
               std::ostream& err, const Terminal& terminal = {});

}  // namespace pb::cli
