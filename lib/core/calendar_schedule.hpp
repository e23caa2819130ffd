// Calendar schedules for a connection's `full_schedule` setting: an in-daemon Full Sync schedule
// ("daily at 01:00") for those who do not use the beectl-full-sync@ systemd timer. The syntax is
// a small subset of systemd.time(7) OnCalendar=, so users of the timer recognise it.
//
// Syntax (words separated by blanks; day names and keywords are case-insensitive):
//
//   [WEEKDAYS] TIME [UTC]     TIME is HH:MM or HH:MM:SS (H:MM too); every listed day at TIME.
//                             HH may be "*" for every hour: "*:30" is every hour at half past.
//   WEEKDAYS [UTC]            the listed days at 00:00:00 ("Mon" = Mondays at midnight)
//   daily [TIME] [UTC]        every day at TIME, 00:00:00 without one
//   weekly [UTC]              Mondays at 00:00:00
//   hourly [UTC]              every hour at :00:00 (same as "*:00")
//
//   WEEKDAYS is a comma-separated list of days and ranges: "Mon", "Sat,Sun", "Mon..Fri",
//   "Mon,Wed..Fri". Days are English names, 3-letter ("Tue") or full ("Tuesday"). A range runs
//   forward within one week, Monday to Sunday: "Fri..Mon" is refused (as systemd refuses it);
//   write "Fri..Sun,Mon".
//
//   Times are in the daemon's local time zone (TZ, /etc/localtime), as systemd timers use;
//   a trailing "UTC" means UTC. Other zone names and dates are not supported.
//
// Examples: "daily", "01:00", "daily 01:00", "Mon..Fri 01:00", "Sat,Sun 03:30", "weekly",
// "hourly", "02:30 UTC".
//
// Daylight saving time. A schedule fires at the first instant at which the wall clock shows the
// scheduled time or a later one:
//   - a time that does not exist on a day (spring forward: 02:30 on 2026-03-29 in Europe/Berlin)
//     fires at the first valid time after it (03:00:00 CEST), like cron. (systemd skips such a
//     day instead: systemd issue #5595.)
//   - a time that occurs twice (fall back: 02:30 on 2026-10-25 in Europe/Berlin) fires once, at
//     its first occurrence (02:30 CEST). Hourly schedules do not fire in the repeated hour.
//
// All functions are pure and thread-safe: they read the zone through localtime_r and never set
// TZ. Schedules fire on whole seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/types.hpp"

namespace pb {

struct CalendarSchedule {
  // Bit d is set when the schedule fires on ISO weekday d + 1: bit 0 Monday ... bit 6 Sunday.
  static constexpr std::uint8_t kEveryDay = 0x7f;

  std::uint8_t weekdays = kEveryDay;  // parse_calendar never yields 0 (which would never fire)
  bool every_hour = false;            // fires every hour at minute:second; `hour` is unused
  int hour = 0;                       // 0-23
  int minute = 0;                     // 0-59
  int second = 0;                     // 0-59
  bool utc = false;                   // times are UTC, not the local time zone

  bool operator==(const CalendarSchedule&) const = default;
};

// The schedule, or what is wrong with `text` (e.g. `unknown weekday "Mnday"`,
// `hour must be 0-23, got 25`).
std::variant<CalendarSchedule, std::string> parse_calendar(std::string_view text);

// The first time strictly after `after` at which the schedule fires. A schedule with no weekdays
// never fires: the largest UnixMillis.
UnixMillis next_after(const CalendarSchedule& schedule, UnixMillis after);

// The latest time at or before `at` at which the schedule fired, to catch up a run missed while
// beed was down (like systemd's Persistent=true); nullopt if it did not fire in the 8 days
// before `at` (at - 8 days itself included).
std::optional<UnixMillis> last_at_or_before(const CalendarSchedule& schedule, UnixMillis at);

// The normalised form, which parse_calendar reads back to the same schedule: weekdays (omitted
// when every day; runs of three or more days as ranges), HH:MM:SS ("*" for every hour), " UTC".
// "daily" -> "00:00:00", "weekly" -> "Mon 00:00:00", "hourly" -> "*:00:00",
// "mon,tue,wed,thu,fri 1:00" -> "Mon..Fri 01:00:00", "Sat,Sun 03:30 UTC" -> "Sat,Sun 03:30:00 UTC".
std::string to_string(const CalendarSchedule& schedule);

}  // namespace pb
