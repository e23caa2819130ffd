// How beectl shows beed's replies: tables and one-line messages for people,
// pretty JSON for scripts. Pure functions of the reply data, so tests can pin
// the exact text. Every returned string ends with a newline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "cli/table.hpp"

#include "cli/exit_codes.hpp"
#include "control/commands.hpp"

namespace pb::cli {

// The human form of a reply to `command`; `wait` tells whether the request
// had --wait (full-sync and sync then reply with the run's record).
std::string format_reply(control::CommandId command, bool wait, const boost::json::value& data);

// Two-space indents, keys in the order received (Boost.JSON keeps it).
std::string format_json(const boost::json::value& v);

// `v` as format_json lays it out when nested `indent` spaces deep; no newline at the end.
std::string format_json_at(const boost::json::value& v, std::size_t indent);

std::string format_status(const boost::json::value& data);
std::string format_inventory(const boost::json::value& data);
std::string format_connections(const boost::json::value& data);
// history: a table of runs, newest first; an ERROR column when a failed or
// partial run has an error to show.
std::string format_history(const boost::json::value& data);
// diff: a table of the SKUs a Smart Sync would push, then a summary line.
std::string format_diff(const boost::json::value& data);
// The parts of the inventory and diff tables, for a listing printed page by page: the columns,
// a page's rows, and what follows the last row (`shown`: the rows printed in all pages).
std::span<const Column> inventory_columns();
std::vector<std::vector<std::string>> inventory_rows(const boost::json::array& items);
std::string inventory_footer(const boost::json::value& data, std::uint64_t shown);
std::span<const Column> diff_columns();
std::vector<std::vector<std::string>> diff_rows(const boost::json::array& changes);
std::string diff_footer(const boost::json::value& data, std::uint64_t shown);

// pause/resume: "acme: automatic syncs paused".
std::string format_pause_state(const boost::json::value& data);
// reload: one line per non-empty list, or "configuration reloaded, nothing changed".
std::string format_reload(const boost::json::value& data);
// Reply of full-sync/sync without --wait: "full sync of acme started as run 12".
std::string format_sync_started(const boost::json::value& data);
// The run record a --wait reply carries.
std::string format_run_summary(const boost::json::value& run);
ExitCode exit_code_for_run(const boost::json::value& run);

}  // namespace pb::cli
