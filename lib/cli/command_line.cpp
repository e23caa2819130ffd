#include "cli/command_line.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "cli/exit_codes.hpp"
#include "core/types.hpp"

#ifndef PACKAGEBEE_VERSION
#define PACKAGEBEE_VERSION "0.1.0"
#endif

namespace pb::cli {
namespace {

using control::ArgType;
using control::CommandSpec;
using control::OptionSpec;

struct GlobalOption {
  std::string_view name;
  std::string_view value_name;
  std::string_view help;
};

constexpr GlobalOption kGlobalOptions[] = {
    {"socket", "PATH", "control socket (default /run/packagebee/beed.sock, or $BEECTL_SOCKET)"},
    {"json", "", "print the reply's data as JSON, keys in the order beed sent them"},
    {"help", "", "show this help; after COMMAND, that command's help"},
    {"version", "", "print beectl's version"},
};

std::string command_hint(const CommandSpec& c) {
  return "beectl " + std::string(c.name) + " --help";
}

std::string flag_text(std::string_view name, std::string_view value_name) {
  std::string s = "--" + std::string(name);
  if (!value_name.empty()) s += " " + std::string(value_name);
  return s;
}

// Rows of "  left  right", the left column padded to the widest entry.
std::string two_columns(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  std::string out;
  for (const auto& [left, right] : rows) {
    out += "  " + left + std::string(width - left.size() + 2, ' ') + right + "\n";
  }
  return out;
}

std::int64_t parse_count(const CommandSpec& c, const OptionSpec& o, std::string_view text) {
  std::int64_t value = -1;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 0 || text.front() == '+')
    throw UsageError("--" + std::string(o.name) + " must be a non-negative integer, got '" +
                         std::string(text) + "'",
                     command_hint(c));
  return value;
}

std::string capitalised(std::string_view s) {
  std::string out(s);
  if (!out.empty() && out.front() >= 'a' && out.front() <= 'z')
    out.front() = static_cast<char>(out.front() - 'a' + 'A');
  return out;
}

// One pass over the arguments, left to right: what an argument means depends
// on whether COMMAND has been seen yet.
class Parser {
 public:
  Parser(std::span<const std::string> args, const char* socket_env) : args_(args) {
    inv_.socket =
        socket_env != nullptr && *socket_env != '\0' ? socket_env : std::string(kDefaultSocket);
  }

  Invocation run() {
    for (; i_ < args_.size(); ++i_) {
      const std::string_view arg = args_[i_];
      if (!only_positional_ && arg == "--") {
        only_positional_ = true;
      } else if (!only_positional_ && arg.size() > 2 && arg.substr(0, 2) == "--") {
        long_option(arg);
      } else if (!only_positional_ && arg == "-h") {
        help_ = true;
      } else if (!only_positional_ && arg.size() > 1 && arg.front() == '-') {
        throw UsageError("unknown option '" + std::string(arg) + "'", hint());
      } else {
        positional(arg);
      }
    }
    return finish();
  }

 private:
  // "--name" or "--name=value".
  struct LongOption {
    std::string_view name;
    std::optional<std::string_view> inline_value;
  };

  std::string hint() const { return inv_.command ? command_hint(*inv_.command) : "beectl --help"; }

  std::string take_value(const LongOption& o, std::string_view value_name) {
    if (o.inline_value) return std::string(*o.inline_value);
    if (i_ + 1 >= args_.size())
      throw UsageError("missing " + std::string(value_name) + " after --" + std::string(o.name),
                       hint());
    return args_[++i_];
  }

  void no_value(const LongOption& o) const {
    if (o.inline_value) throw UsageError("--" + std::string(o.name) + " takes no value", hint());
  }

  void long_option(std::string_view arg) {
    const std::size_t eq = arg.find('=');
    LongOption o{arg.substr(2, eq == std::string_view::npos ? eq : eq - 2), std::nullopt};
    if (eq != std::string_view::npos) o.inline_value = arg.substr(eq + 1);
    if (o.name == "socket") {
      inv_.socket = take_value(o, "PATH");
      if (inv_.socket.empty()) throw UsageError("--socket needs a non-empty PATH", hint());
    } else if (o.name == "json") {
      no_value(o);
      inv_.json = true;
    } else if (o.name == "help") {
      no_value(o);
      help_ = true;
    } else if (o.name == "version") {
      no_value(o);
      show_version_ = true;
    } else if (inv_.command == nullptr) {
      throw UsageError("unknown option '--" + std::string(o.name) + "'", hint());
    } else {
      command_option(o);
    }
  }

  // An option from the command's table entry, turned into a request argument.
  void command_option(const LongOption& o) {
    const OptionSpec* option = control::find_option(*inv_.command, o.name);
    if (option == nullptr || option->wire_only)
      throw UsageError("unknown option '--" + std::string(o.name) + "' for '" +
                           std::string(inv_.command->name) + "'",
                       hint());
    boost::json::object& request_args = inv_.request.args;
    if (request_args.contains(option->name))
      throw UsageError("--" + std::string(o.name) + " given twice", hint());
    switch (option->type) {
      case ArgType::flag:
        no_value(o);
        request_args[option->name] = true;
        break;
      case ArgType::string:
        request_args[option->name] = take_value(o, option->value_name);
        break;
      case ArgType::count:
        request_args[option->name] =
            parse_count(*inv_.command, *option, take_value(o, option->value_name));
        break;
    }
  }

  // COMMAND first, then the command's CONNECTION if it takes one.
  void positional(std::string_view arg) {
    boost::json::object& request_args = inv_.request.args;
    if (inv_.command == nullptr) {
      inv_.command = control::find_command(arg);
      if (inv_.command == nullptr)
        throw UsageError("unknown command '" + std::string(arg) + "'", "beectl --help");
    } else if (inv_.command->takes_connection && !request_args.contains(control::kConnectionArg)) {
      if (!is_valid_connection_name(arg))
        throw UsageError("invalid connection name '" + std::string(arg) +
                             "' (1-64 of A-Z a-z 0-9 _ . -, starting with a letter or digit)",
                         hint());
      request_args[control::kConnectionArg] = arg;
    } else {
      throw UsageError("unexpected argument '" + std::string(arg) + "'", hint());
    }
  }

  Invocation finish() {
    if (help_) {
      inv_.action = inv_.command ? Invocation::Action::command_help : Invocation::Action::help;
      return std::move(inv_);
    }
    if (show_version_) {
      inv_.action = Invocation::Action::version;
      return std::move(inv_);
    }
    if (inv_.command == nullptr) throw UsageError("missing COMMAND");
    const boost::json::object& request_args = inv_.request.args;
    if (inv_.command->takes_connection && !request_args.contains(control::kConnectionArg))
      throw UsageError("missing CONNECTION for '" + std::string(inv_.command->name) + "'",
                       command_hint(*inv_.command));
    // The table built these args, so this only fails if the table and this
    // parser disagree; better a usage error than a request beed will refuse.
    if (std::string problem = control::validate_args(*inv_.command, request_args); !problem.empty())
      throw UsageError(problem, command_hint(*inv_.command));
    inv_.request.command = inv_.command->name;
    return std::move(inv_);
  }

  std::span<const std::string> args_;
  std::size_t i_ = 0;  // the argument being read; take_value() moves it on
  Invocation inv_;
  bool help_ = false;
  bool show_version_ = false;
  bool only_positional_ = false;  // after "--"
};

}  // namespace

std::string_view version() {
  return PACKAGEBEE_VERSION;
}

Invocation parse_command_line(std::span<const std::string> args, const char* socket_env) {
  return Parser(args, socket_env).run();
}

std::string global_help() {
  std::string out =
      "Usage: beectl [--socket PATH] [--json] COMMAND [ARGS...]\n"
      "       beectl COMMAND --help | beectl --help | beectl --version\n"
      "\n"
      "Controls beed, the PackageBee inventory-sync daemon, through its control socket.\n"
      "\n"
      "Commands:\n";
  // Usage and summary on separate lines: the longest usage leaves no room
  // for a second column in 100 characters.
  for (const CommandSpec& c : control::commands())
    out += "  " + control::usage(c) + "\n      " + std::string(c.summary) +
           (c.mutates ? " (changes state)" : "") + "\n";
  out += "\nOptions:\n";
  std::vector<std::pair<std::string, std::string>> rows;
  for (const GlobalOption& o : kGlobalOptions)
    rows.emplace_back(flag_text(o.name, o.value_name), std::string(o.help));
  out += two_columns(rows);
  out += "\nExit status:\n";
  rows.clear();
  for (const ExitCodeDoc& e : kExitCodes)
    rows.emplace_back(std::to_string(to_int(e.code)), std::string(e.meaning));
  out += two_columns(rows);
  out += "\nRun 'beectl COMMAND --help' for a command's options.\n";
  return out;
}

std::string command_help(const CommandSpec& c) {
  std::string out = "Usage: beectl " + control::usage(c) + "\n\n" + capitalised(c.summary) + ".\n";
  if (c.mutates) out += "Changes state: needs write access to beed.\n";
  std::vector<std::pair<std::string, std::string>> rows;
  if (c.takes_connection)
    rows.emplace_back("CONNECTION", "the connection's name, as in beed's configuration");
  for (const OptionSpec& o : c.options)
    if (!o.wire_only) rows.emplace_back(flag_text(o.name, o.value_name), std::string(o.help));
  if (!rows.empty()) out += "\nArguments:\n" + two_columns(rows);
  out += "\nGlobal options (--socket PATH, --json) and exit statuses: see beectl --help.\n";
  return out;
}

}  // namespace pb::cli
