// How beectl shows beed's replies: tables and one-line messages for people,
// pretty JSON for scripts. Pure functions of the reply data, so tests can pin
// the exact text. Every returned string ends with a newline.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/value.hpp>

#include "cli/exit_codes.hpp"

namespace pb::cli {

// Two-space indents, keys in the order received (Boost.JSON keeps it).
std::string format_json(const boost::json::value& v);

std::string format_status(const boost::json::value& data);
std::string format_inventory(const boost::json::value& data);
std::string format_connections(const boost::json::value& data);
// Reply of full-sync/sync without --wait: "full sync of acme started as run 12".
std::string format_sync_started(const boost::json::value& data);
// The run record a --wait reply carries.
std::string format_run_summary(const boost::json::value& run);
ExitCode exit_code_for_run(const boost::json::value& run);

// Turns progress events into lines, printing each phase change and otherwise
// at most one line per `interval` of run time, so a long run stays readable in
// the journal.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(std::int64_t interval_ms = 1000) : interval_ms_(interval_ms) {}
  // The line to print for this event's data, or nullopt if throttled.
  std::optional<std::string> line(const boost::json::value& progress);

 private:
  std::int64_t interval_ms_;
  std::string phase_;
  std::int64_t last_printed_ms_ = 0;
  // Where pushing began, so the rate excludes reading and detection time.
  std::int64_t push_start_ms_ = -1;
  std::int64_t push_start_count_ = 0;
};

// 3200 → "3,200".
std::string with_thousands(std::int64_t n);
// 85 → "85 ms", 12345 → "12.3 s", 125000 → "2m 05s", 7500000 → "2h 05m".
std::string format_duration_ms(std::int64_t ms);
// 3600 → "1h", 5400 → "1h30m", 45 → "45s"; 0 → "-".
std::string format_interval_s(std::int64_t seconds);

}  // namespace pb::cli
