// How beectl shows beed's replies: tables and one-line messages for people,
// pretty JSON for scripts. Pure functions of the reply data, so tests can pin
// the exact text. Every returned string ends with a newline.
#pragma once

#include <string>

#include <boost/json/value.hpp>

#include "cli/exit_codes.hpp"
#include "control/commands.hpp"

namespace pb::cli {

// The human form of a reply to `command`; `wait` tells whether the request
// had --wait (full-sync and sync then reply with the run's record).
std::string format_reply(control::CommandId command, bool wait, const boost::json::value& data);

// Two-space indents, keys in the order received (Boost.JSON keeps it).
std::string format_json(const boost::json::value& v);

std::string format_status(const boost::json::value& data);
std::string format_inventory(const boost::json::value& data);
std::string format_connections(const boost::json::value& data);
// history: a table of runs, newest first; an ERROR column when a failed or
// partial run has an error to show.
std::string format_history(const boost::json::value& data);
// diff: a table of the SKUs a Smart Sync would push, then a summary line.
std::string format_diff(const boost::json::value& data);
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
