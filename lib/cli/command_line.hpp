// beectl's command line: parsed, checked and turned into a control Request
// from the command table (control/commands.hpp), which also writes its --help.
#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "control/commands.hpp"
#include "control/message.hpp"

namespace pb::cli {

inline constexpr std::string_view kDefaultSocket = "/run/packagebee/beed.sock";
inline constexpr const char* kSocketEnv = "BEECTL_SOCKET";

// A bad command line; beectl prints what() and "see <help_hint>", exits 2.
class UsageError : public std::runtime_error {
 public:
  UsageError(const std::string& message, std::string help_hint = "beectl --help")
      : std::runtime_error(message), help_hint_(std::move(help_hint)) {}
  const std::string& help_hint() const noexcept { return help_hint_; }

 private:
  std::string help_hint_;
};

struct Invocation {
  enum class Action { run, help, command_help, version };
  Action action = Action::run;
  std::string socket;
  bool json = false;
  const control::CommandSpec* command = nullptr;  // set for run and command_help
  control::Request request;                       // set for run
};

// `args` excludes argv[0]. `socket_env` is $BEECTL_SOCKET (may be null); the
// --socket flag wins over it. Throws UsageError.
Invocation parse_command_line(std::span<const std::string> args, const char* socket_env);

std::string_view version();
std::string global_help();
std::string command_help(const control::CommandSpec& command);

}  // namespace pb::cli
