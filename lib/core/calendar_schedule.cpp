#include "core/calendar_schedule.hpp"

#include <array>
#include <chrono>
#include <ctime>
#include <limits>
#include <utility>
#include <vector>

namespace pb {

namespace {

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 24 * kHour;
constexpr UnixMillis kNever = std::numeric_limits<UnixMillis>::max();

constexpr std::array<std::string_view, 7> kDayNames{"Mon", "Tue", "Wed", "Thu",
                                                    "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kFullDayNames{
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
  return a - floor_div(a, b) * b;
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

// --- time arithmetic -------------------------------------------------------------------------
// A "wall" value is a wall-clock reading (date and time of day) counted in seconds as if it were
// UTC: the local time of instant u is u + (its UTC offset). Schedules are matched on wall values
// and turned back into instants by resolve().

// The wall value of instant `u` (seconds) in the local zone, or in UTC.
std::int64_t wall_of(std::int64_t u, bool utc) {
  if (utc) return u;
  const auto t = static_cast<std::time_t>(u);
  std::tm tm{};
  if (localtime_r(&t, &tm) == nullptr) return u;  // out of range for the C library
  using namespace std::chrono;
  const auto date = sys_days{year{tm.tm_year + 1900} / month{static_cast<unsigned>(tm.tm_mon + 1)} /
                             day{static_cast<unsigned>(tm.tm_mday)}};
  return std::int64_t{date.time_since_epoch().count()} * kDay + tm.tm_hour * kHour +
         tm.tm_min * 60 + tm.tm_sec;
}

// The first instant at which the clock shows the wall value `w` or a later one: the instant of
// `w` if it exists, its first occurrence if it occurs twice (fall back), and the end of the gap
// if the clock jumps over it (spring forward).
//
// Not mktime: what it does with a repeated or skipped time (tm_isdst = -1) is unspecified, and
// glibc's answer for a repeated time depends on what earlier calls cached. Instead, w is tried
// with each UTC offset in force within a day of it and the result checked with localtime_r.
std::int64_t resolve(std::int64_t w, bool utc) {
  if (utc) return w;
  // Offsets are within +-26 hours, so the instants a day either side of w read as UTC bracket
  // the instant(s) of w and see the offsets before and after a change near it.
  std::array<std::int64_t, 3> candidates{};
  const std::array<std::int64_t, 3> probes{w - kDay, w, w + kDay};
  for (std::size_t i = 0; i < probes.size(); ++i)
    candidates[i] = w - (wall_of(probes[i], false) - probes[i]);

  std::optional<std::int64_t> first;
  for (const std::int64_t c : candidates)
    if (wall_of(c, false) == w && (!first || c < *first)) first = c;
  if (first) return *first;

  // w is skipped. Bracket the jump between a candidate before it and one after it; the clock
  // runs forward in between, so bisect for the first second that shows a time past w.
  std::optional<std::int64_t> lo;
  std::optional<std::int64_t> hi;
  for (const std::int64_t c : candidates) {
    const std::int64_t cw = wall_of(c, false);
    if (cw < w && (!lo || c > *lo)) lo = c;
    if (cw > w && (!hi || c < *hi)) hi = c;
  }
  if (!lo || !hi || *lo >= *hi) return candidates[1];  // not seen with real zone data
  std::int64_t before = *lo;
  std::int64_t after = *hi;
  while (after - before > 1) {
    const std::int64_t mid = before + (after - before) / 2;
    if (wall_of(mid, false) > w)
      after = mid;
    else
      before = mid;
  }
  return after;
}

// Schedules are enumerated in slots: one per day, or one per hour for every_hour schedules. The
// wall value at which the schedule fires in slot k is k * step + offset, if its weekday is on.
struct Slots {
  std::int64_t step;
  std::int64_t offset;
};

Slots slots_of(const CalendarSchedule& s) {
  const std::int64_t within_hour = s.minute * std::int64_t{60} + s.second;
  if (s.every_hour) return {kHour, within_hour};
  return {kDay, s.hour * kHour + within_hour};
}

bool fires_on_day_of(const CalendarSchedule& s, std::int64_t wall) {
  // Day 0 (1970-01-01) was a Thursday, bit 3.
  const auto weekday = floor_mod(floor_div(wall, kDay) + 3, 7);
  return (s.weekdays >> weekday & 1) != 0;
}

// Enough slots to reach past a week in which some weekday is on, with slack for DST.
constexpr std::int64_t kSearchSpan = 9 * kDay;

// --- parsing ---------------------------------------------------------------------------------

std::optional<int> parse_day(std::string_view name) {
  for (std::size_t i = 0; i < kDayNames.size(); ++i)
    if (iequals(name, kDayNames[i]) || iequals(name, kFullDayNames[i])) return static_cast<int>(i);
  return std::nullopt;
}

std::string day_span(int from, int to) {
  std::string out(kDayNames[static_cast<std::size_t>(from)]);
  if (to != from) out += std::string("..") + std::string(kDayNames[static_cast<std::size_t>(to)]);
  return out;
}

// "Mon", "Sat,Sun", "Mon..Fri", "Mon,Wed..Fri" -> a weekday mask, or an error.
std::variant<std::uint8_t, std::string> parse_weekdays(std::string_view text) {
  unsigned mask = 0;
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = text.find(',', begin);
    const std::string_view item = text.substr(
        begin, comma == std::string_view::npos ? std::string_view::npos : comma - begin);
    if (item.empty()) return "empty weekday in the list " + quoted(text);
    const std::size_t dots = item.find("..");
    if (dots == std::string_view::npos) {
      const auto day = parse_day(item);
      if (!day) return "unknown weekday " + quoted(item);
      mask |= 1u << *day;
    } else {
      const std::string_view left = item.substr(0, dots);
      const std::string_view right = item.substr(dots + 2);
      if (left.empty() || right.empty())
        return "weekday range " + quoted(item) + " needs a day on both sides of \"..\"";
      const auto from = parse_day(left);
      if (!from) return "unknown weekday " + quoted(left);
      const auto to = parse_day(right);
      if (!to) return "unknown weekday " + quoted(right);
      if (*from > *to)
        return "weekday range " + quoted(item) + " runs past Sunday; write " +
               quoted(day_span(*from, 6) + "," + day_span(0, *to));
      for (int d = *from; d <= *to; ++d) mask |= 1u << d;
    }
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  return static_cast<std::uint8_t>(mask);
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int to_int(std::string_view digits) {
  int n = 0;
  for (char c : digits) n = n * 10 + (c - '0');
  return n;
}

// "HH:MM" or "HH:MM:SS" (HH may be one digit, or "*" for every hour) into `s`; or an error.
std::optional<std::string> parse_time(std::string_view text, CalendarSchedule& s) {
  const std::string bad = "bad time " + quoted(text) + " (want HH:MM or HH:MM:SS)";
  std::array<std::string_view, 3> parts{};
  std::size_t count = 0;
  std::size_t begin = 0;
  while (true) {
    if (count == parts.size()) return bad;
    const std::size_t colon = text.find(':', begin);
    parts[count++] = text.substr(
        begin, colon == std::string_view::npos ? std::string_view::npos : colon - begin);
    if (colon == std::string_view::npos) break;
    begin = colon + 1;
  }
  if (count < 2) return bad;
  const std::string_view hour = parts[0];
  if (hour == "*") {
    s.every_hour = true;
  } else {
    if (hour.empty() || hour.size() > 2 || !all_digits(hour)) return bad;
    s.every_hour = false;
    s.hour = to_int(hour);
  }
  for (std::size_t i = 1; i < count; ++i)
    if (parts[i].size() != 2 || !all_digits(parts[i])) return bad;
  s.minute = to_int(parts[1]);
  s.second = count == 3 ? to_int(parts[2]) : 0;
  if (!s.every_hour && s.hour > 23) return "hour must be 0-23, got " + std::to_string(s.hour);
  if (s.minute > 59) return "minute must be 0-59, got " + std::to_string(s.minute);
  if (s.second > 59) return "second must be 0-59, got " + std::to_string(s.second);
  return std::nullopt;
}

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (i < text.size()) {
    while (i < text.size() && blank(text[i])) ++i;
    const std::size_t begin = i;
    while (i < text.size() && !blank(text[i])) ++i;
    if (i > begin) words.push_back(text.substr(begin, i - begin));
  }
  return words;
}

bool looks_like_time(std::string_view word) {
  return !word.empty() && (word.front() == '*' || (word.front() >= '0' && word.front() <= '9'));
}

}  // namespace

std::variant<CalendarSchedule, std::string> parse_calendar(std::string_view text) {
  std::vector<std::string_view> words = split_words(text);
  if (words.empty())
    return std::string("empty calendar schedule (want e.g. \"daily 01:00\" or \"Mon..Fri 01:00\")");
  CalendarSchedule s;
  if (iequals(words.back(), "UTC")) {
    if (words.size() == 1) return std::string("\"UTC\" needs a time or day before it");
    s.utc = true;
    words.pop_back();
  }
  if (words.size() > 2)
    return "too many words in " + quoted(text) + " (want [WEEKDAYS] HH:MM[:SS] [UTC])";
  const std::string_view first = words[0];
  const std::optional<std::string_view> second =
      words.size() == 2 ? std::optional<std::string_view>(words[1]) : std::nullopt;
  std::optional<std::string> error;

  if (iequals(first, "daily")) {
    if (second) error = parse_time(*second, s);
  } else if (iequals(first, "weekly")) {
    if (second) return std::string("\"weekly\" takes no time; write \"Mon HH:MM\"");
    s.weekdays = 1;
  } else if (iequals(first, "hourly")) {
    if (second) return std::string("\"hourly\" takes no time; write \"*:MM\"");
    s.every_hour = true;
  } else if (looks_like_time(first)) {
    error = parse_time(first, s);
    if (!error && second)
      return "unexpected " + quoted(*second) +
             " after the time (weekdays go before it, as in \"Mon 01:00\"; only \"UTC\" may "
             "follow it)";
  } else {
    auto days = parse_weekdays(first);
    if (auto* message = std::get_if<std::string>(&days)) return std::move(*message);
    s.weekdays = std::get<std::uint8_t>(days);
    if (second) {
      if (iequals(*second, "daily") || iequals(*second, "weekly") || iequals(*second, "hourly"))
        return "weekdays take a time, not " + quoted(*second) + ", as in \"Mon..Fri 01:00\"";
      error = parse_time(*second, s);
    }
  }
  if (error) return std::move(*error);
  return s;
}

UnixMillis next_after(const CalendarSchedule& s, UnixMillis after) {
  if ((s.weekdays & CalendarSchedule::kEveryDay) == 0) return kNever;
  const std::int64_t after_s = floor_div(after, 1000);  // fires on whole seconds > after_s
  const Slots slots = slots_of(s);
  // The clock showed the wall value of `after` at `after`, so every slot before its slot fired
  // at or before `after`; one slot earlier is slack.
  const std::int64_t first = floor_div(wall_of(after_s, s.utc), slots.step) - 1;
  const std::int64_t last = first + kSearchSpan / slots.step;
  for (std::int64_t k = first; k <= last; ++k) {
    const std::int64_t w = k * slots.step + slots.offset;
    if (!fires_on_day_of(s, w)) continue;
    const std::int64_t u = resolve(w, s.utc);
    if (u > after_s) return u > kNever / 1000 ? kNever : u * 1000;
  }
  return kNever;
}

std::optional<UnixMillis> last_at_or_before(const CalendarSchedule& s, UnixMillis at) {
  if ((s.weekdays & CalendarSchedule::kEveryDay) == 0) return std::nullopt;
  constexpr UnixMillis kWindow = 8 * kDay * 1000;
  const UnixMillis earliest = at < std::numeric_limits<UnixMillis>::min() + kWindow
                                  ? std::numeric_limits<UnixMillis>::min()
                                  : at - kWindow;
  const std::int64_t at_s = floor_div(at, 1000);
  const Slots slots = slots_of(s);
  // A slot after the one of `at` may already have fired if the clock was set back (fall back).
  const std::int64_t top = floor_div(wall_of(at_s, s.utc), slots.step) + 2;
  const std::int64_t bottom = top - kSearchSpan / slots.step;
  for (std::int64_t k = top; k >= bottom; --k) {
    const std::int64_t w = k * slots.step + slots.offset;
    if (!fires_on_day_of(s, w)) continue;
    const std::int64_t u = resolve(w, s.utc);  // falls as k falls
    if (u > at_s) continue;
    if (u < floor_div(earliest, 1000) || u * 1000 < earliest) return std::nullopt;
    return u * 1000;
  }
  return std::nullopt;
}

std::string to_string(const CalendarSchedule& s) {
  std::string out;
  if (s.weekdays != CalendarSchedule::kEveryDay) {
    // Runs of three or more days as ranges, as systemd normalises them.
    for (int d = 0; d < 7;) {
      if ((s.weekdays >> d & 1) == 0) {
        ++d;
        continue;
      }
      int end = d;
      while (end + 1 < 7 && (s.weekdays >> (end + 1) & 1) != 0) ++end;
      if (!out.empty()) out += ',';
      if (end - d >= 2) {
        out += day_span(d, end);
      } else {
        out += kDayNames[static_cast<std::size_t>(d)];
        if (end > d)
          out += std::string(",") + std::string(kDayNames[static_cast<std::size_t>(end)]);
      }
      d = end + 1;
    }
    out += ' ';
  }
  const auto two = [](int n) {
    return std::string{static_cast<char>('0' + n / 10 % 10), static_cast<char>('0' + n % 10)};
  };
  out += s.every_hour ? std::string("*") : two(s.hour);
  out += ':' + two(s.minute) + ':' + two(s.second);
  if (s.utc) out += " UTC";
  return out;
}

}  // namespace pb
