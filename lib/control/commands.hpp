// The control command table, declared once: beed checks arguments and the
// mutating flag from it before dispatch; beectl builds its --help, its argument
// parsing and the request arguments from it. Both index their per-command code
// (beed's handlers, beectl's formatters) by CommandId.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace pb::control {

// Request argument key of the positional CONNECTION.
inline constexpr std::string_view kConnectionArg = "connection";

enum class ArgType {
  flag,    // JSON true/false; `--name` on the command line
  string,  // JSON string; `--name VALUE`
  count,   // JSON non-negative integer; `--name N`
};

struct OptionSpec {
  std::string_view name;  // request arg key; `--name` for beectl
  ArgType type;
  std::string_view value_name;  // "GLOB", "N"; empty for flags
  std::string_view help;
  // Set by beectl itself, never typed: left out of usage and help, refused on the command line.
  bool wire_only = false;
};

// The most items or changes one page of an `inventory` or `diff` reply holds (beed may hold
// fewer, to keep a page's bytes bounded). beectl asks for a stream of pages ("stream": true)
// when it wants more than this; a smaller --limit gets one reply as before.
inline constexpr std::uint64_t kReplyPageItems = 1000;

// One per command, in table order. The wire carries the name, never this
// number. A new enumerator fails the build until the table, beed's handler
// table and beectl's formatter table have an entry for it.
enum class CommandId {
  status,
  full_sync,
  sync,
  inventory,
  connections,
  history,
  diff,
  pause,
  resume,
  reload,
  count_,  // the number of commands; not a command
};

inline constexpr std::size_t kCommandCount = static_cast<std::size_t>(CommandId::count_);

struct CommandSpec {
  CommandId id;
  std::string_view name;
  std::string_view summary;  // one line, for `beectl --help`
  bool mutates;              // needs write rights (STYLE item 6)
  bool takes_connection;     // positional CONNECTION → args["connection"], required
  std::span<const OptionSpec> options;
};

// Ordered by id: commands()[i].id == CommandId(i).
std::span<const CommandSpec> commands();
const CommandSpec& command(CommandId id);
const CommandSpec* find_command(std::string_view name);
const OptionSpec* find_option(const CommandSpec& command, std::string_view name);

// "full-sync CONNECTION [--wait]", derived from the entry so it cannot drift.
std::string usage(const CommandSpec& command);

// Empty when `args` fits the command; otherwise a message for a bad_request
// reply. Rejects unknown keys, wrong types and a missing or malformed
// connection name.
std::string validate_args(const CommandSpec& command, const boost::json::object& args);

}  // namespace pb::control
