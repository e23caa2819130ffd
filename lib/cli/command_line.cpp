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

}  // namespace

std::string_view version() {
  return PACKAGEBEE_VERSION;
}

Invocation parse_command_line(std::span<const std::string> args, const char* socket_env) {
  Invocation inv;
  inv.socket =
      socket_env != nullptr && *socket_env != '\0' ? socket_env : std::string(kDefaultSocket);
  bool help = false;
  bool show_version = false;
  bool only_positional = false;
  boost::json::object& request_args = inv.request.args;

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    const std::string hint = inv.command ? command_hint(*inv.command) : "beectl --help";
    if (!only_positional && arg == "--") {
      only_positional = true;
      continue;
    }
    if (!only_positional && arg.size() > 2 && arg.substr(0, 2) == "--") {
      const std::size_t eq = arg.find('=');
      const std::string_view name = arg.substr(2, eq == std::string_view::npos ? eq : eq - 2);
      std::optional<std::string_view> inline_value;
      if (eq != std::string_view::npos) inline_value = arg.substr(eq + 1);
      const auto take_value = [&](std::string_view value_name) -> std::string {
        if (inline_value) return std::string(*inline_value);
        if (i + 1 >= args.size())
          throw UsageError("missing " + std::string(value_name) + " after --" + std::string(name),
                           hint);
        return args[++i];
      };
      const auto no_value = [&] {
        if (inline_value) throw UsageError("--" + std::string(name) + " takes no value", hint);
      };
      if (name == "socket") {
        inv.socket = take_value("PATH");
        if (inv.socket.empty()) throw UsageError("--socket needs a non-empty PATH", hint);
      } else if (name == "json") {
        no_value();
        inv.json = true;
      } else if (name == "help") {
        no_value();
        help = true;
      } else if (name == "version") {
        no_value();
        show_version = true;
      } else if (inv.command == nullptr) {
        throw UsageError("unknown option '--" + std::string(name) + "'", hint);
      } else {
        const OptionSpec* option = control::find_option(*inv.command, name);
        if (option == nullptr)
          throw UsageError("unknown option '--" + std::string(name) + "' for '" +
                               std::string(inv.command->name) + "'",
                           hint);
        if (request_args.contains(option->name))
          throw UsageError("--" + std::string(name) + " given twice", hint);
        switch (option->type) {
          case ArgType::flag:
            no_value();
            request_args[option->name] = true;
            break;
          case ArgType::string:
            request_args[option->name] = take_value(option->value_name);
            break;
          case ArgType::count:
            request_args[option->name] =
                parse_count(*inv.command, *option, take_value(option->value_name));
            break;
        }
      }
      continue;
    }
    if (!only_positional && arg == "-h") {
      help = true;
      continue;
    }
    if (!only_positional && arg.size() > 1 && arg.front() == '-')
      throw UsageError("unknown option '" + std::string(arg) + "'", hint);

    if (inv.command == nullptr) {
      inv.command = control::find_command(arg);
      if (inv.command == nullptr)
        throw UsageError("unknown command '" + std::string(arg) + "'", "beectl --help");
    } else if (inv.command->takes_connection && !request_args.contains(control::kConnectionArg)) {
      if (!is_valid_connection_name(arg))
        throw UsageError("invalid connection name '" + std::string(arg) +
                             "' (1-64 of A-Z a-z 0-9 _ . -, starting with a letter or digit)",
                         hint);
      request_args[control::kConnectionArg] = arg;
    } else {
      throw UsageError("unexpected argument '" + std::string(arg) + "'", hint);
    }
  }

  if (help) {
    inv.action = inv.command ? Invocation::Action::command_help : Invocation::Action::help;
    return inv;
  }
  if (show_version) {
    inv.action = Invocation::Action::version;
    return inv;
  }
  if (inv.command == nullptr) throw UsageError("missing COMMAND");
  if (inv.command->takes_connection && !request_args.contains(control::kConnectionArg))
    throw UsageError("missing CONNECTION for '" + std::string(inv.command->name) + "'",
                     command_hint(*inv.command));
  // The table built these args, so this only fails if the table and this
  // parser disagree; better a usage error than a request beed will refuse.
  if (std::string problem = control::validate_args(*inv.command, request_args); !problem.empty())
    throw UsageError(problem, command_hint(*inv.command));
  inv.request.command = inv.command->name;
  return inv;
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
    rows.emplace_back(flag_text(o.name, o.value_name), std::string(o.help));
  if (!rows.empty()) out += "\nArguments:\n" + two_columns(rows);
  out += "\nGlobal options (--socket PATH, --json) and exit statuses: see beectl --help.\n";
  return out;
}

}  // namespace pb::cli
