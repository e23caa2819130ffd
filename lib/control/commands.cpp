#include "control/commands.hpp"

#include <array>

#include "core/types.hpp"

namespace pb::control {
namespace {

constexpr OptionSpec kWait{
    "wait", ArgType::flag, "",
    "wait for the run to end, printing progress; the exit status is its result"};

constexpr OptionSpec kAllowZeroing{"allow-zeroing", ArgType::flag, "",
                                   "accept a feed the zeroing guard would refuse (this run only)"};

constexpr std::array<OptionSpec, 2> kSyncOptions{kWait, kAllowZeroing};

// Where a listing cut short (its reply's next_after) goes on.
constexpr OptionSpec kAfter{"after", ArgType::string, "SKU",
                            "list only what comes after SKU (a reply's next_after)"};
// Every page but the last as an event before the reply: beectl sets it for long listings.
constexpr OptionSpec kStream{"stream", ArgType::flag, "", "", true};

constexpr std::array<OptionSpec, 5> kInventoryOptions{{
    {"sku", ArgType::string, "GLOB", "only SKUs matching GLOB (* and ? wildcards)"},
    {"changed", ArgType::flag, "", "only SKUs whose store quantity is not confirmed yet"},
    {"limit", ArgType::count, "N", "list at most N items"},
    kAfter,
    kStream,
}};

// The defaults are beed's (service/command_handlers.cpp); the help repeats
// them so `beectl history --help` tells the truth without asking beed.
constexpr std::array<OptionSpec, 1> kHistoryOptions{{
    {"limit", ArgType::count, "N", "list the N newest runs (default 20)"},
}};

constexpr std::array<OptionSpec, 3> kDiffOptions{{
    {"limit", ArgType::count, "N", "list at most N changes (default 1000; 0: no limit)"},
    kAfter,
    kStream,
}};

constexpr std::array<CommandSpec, kCommandCount> kCommands{{
    {CommandId::status,
     "status",
     "show beed's connections, their last sync and the next one",
     false,
     false,
     {}},
    {CommandId::full_sync, "full-sync", "start a Full Sync: push every SKU's quantity to the store",
     true, true, kSyncOptions},
    {CommandId::sync, "sync", "start a Smart Sync (\"Update inventory\"): push only what changed",
     true, true, kSyncOptions},
    {CommandId::inventory, "inventory", "show what beed knows of a connection's SKUs", false, true,
     kInventoryOptions},
    {CommandId::connections, "connections", "list the configured connections", false, false, {}},
    {CommandId::history, "history", "list a connection's recent sync runs, newest first", false,
     true, kHistoryOptions},
    {CommandId::diff, "diff", "show what a Smart Sync would push now, without pushing anything",
     false, true, kDiffOptions},
    {CommandId::pause,
     "pause",
     "pause a connection's automatic syncs; manual syncs still run",
     true,
     true,
     {}},
    {CommandId::resume, "resume", "resume a connection's automatic syncs", true, true, {}},
    {CommandId::reload,
     "reload",
     "re-read beed's configuration; if it is invalid, keep the running one",
     true,
     false,
     {}},
}};

// command(id) indexes the table, so each entry must sit at its id's place.
constexpr bool ordered_by_id() {
  for (std::size_t i = 0; i < kCommands.size(); ++i)
    if (static_cast<std::size_t>(kCommands[i].id) != i) return false;
  return true;
}
static_assert(ordered_by_id(), "kCommands must list the commands in CommandId order");

std::string_view type_name(ArgType t) {
  switch (t) {
    case ArgType::flag:
      return "a boolean";
    case ArgType::string:
      return "a string";
    case ArgType::count:
      return "a non-negative integer";
  }
  return "?";
}

bool has_type(const boost::json::value& v, ArgType t) {
  switch (t) {
    case ArgType::flag:
      return v.is_bool();
    case ArgType::string:
      return v.is_string();
    case ArgType::count:
      return (v.is_int64() && v.get_int64() >= 0) || v.is_uint64();
  }
  return false;
}

}  // namespace

std::span<const CommandSpec> commands() {
  return kCommands;
}

const CommandSpec& command(CommandId id) {
  return kCommands.at(static_cast<std::size_t>(id));
}

const CommandSpec* find_command(std::string_view name) {
  for (const CommandSpec& c : kCommands)
    if (c.name == name) return &c;
  return nullptr;
}

const OptionSpec* find_option(const CommandSpec& command, std::string_view name) {
  for (const OptionSpec& o : command.options)
    if (o.name == name) return &o;
  return nullptr;
}

std::string usage(const CommandSpec& command) {
  std::string u(command.name);
  if (command.takes_connection) u += " CONNECTION";
  for (const OptionSpec& o : command.options) {
    if (o.wire_only) continue;
    u += " [--";
    u += o.name;
    if (o.type != ArgType::flag) {
      u += ' ';
      u += o.value_name;
    }
    u += ']';
  }
  return u;
}

std::string validate_args(const CommandSpec& command, const boost::json::object& args) {
  const std::string where = " for '" + std::string(command.name) + "'";
  for (const auto& [key, value] : args) {
    if (command.takes_connection && key == kConnectionArg) {
      if (!value.is_string()) return "argument 'connection' must be a string";
      if (!is_valid_connection_name(value.get_string()))
        return "invalid connection name '" + std::string(value.get_string()) + "'";
      continue;
    }
    const OptionSpec* option = find_option(command, key);
    if (option == nullptr) return "unknown argument '" + std::string(key) + "'" + where;
    if (!has_type(value, option->type))
      return "argument '" + std::string(key) + "' must be " + std::string(type_name(option->type));
  }
  if (command.takes_connection && !args.contains(kConnectionArg))
    return "missing argument 'connection'" + where;
  return {};
}

}  // namespace pb::control
