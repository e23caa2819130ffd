#include "core/calendar_schedule.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace pb;

namespace {

constexpr UnixMillis kSecond = 1000;
constexpr UnixMillis kHour = 3600 * kSecond;

// Sets TZ for the lifetime of the guard (the library only reads it).
class TimeZone {
 public:
  explicit TimeZone(const std::string& tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    setenv("TZ", tz.c_str(), 1);
    tzset();
  }
  ~TimeZone() {
    if (old_)
      setenv("TZ", old_->c_str(), 1);
    else
      unsetenv("TZ");
    tzset();
  }
  TimeZone(const TimeZone&) = delete;
  TimeZone& operator=(const TimeZone&) = delete;

 private:
  std::optional<std::string> old_;
};

// Japan: UTC+9 all year, from a POSIX rule (needs no zone file).
constexpr const char* kTokyo = "JST-9";

// The zones for the DST cases: Europe/Berlin from tzdata when installed, and always the POSIX
// rule that Germany has followed since 1996 (needs no zone file).
std::vector<std::string> berlin_zones() {
  std::vector<std::string> zones;
  if (std::filesystem::exists("/usr/share/zoneinfo/Europe/Berlin"))
    zones.emplace_back("Europe/Berlin");
  else
    MESSAGE(
        "/usr/share/zoneinfo/Europe/Berlin is missing (package tzdata): its DST cases are "
        "skipped; the equivalent POSIX rule still runs");
  zones.emplace_back("CET-1CEST,M3.5.0,M10.5.0/3");
  return zones;
}

// "2026-03-29 01:00:00" read as UTC.
UnixMillis utc(const char* text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  REQUIRE(std::sscanf(text, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &s) == 6);
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<UnixMillis>(timegm(&tm)) * kSecond;
}

// A wall time in Japan (kTokyo), as an instant.
UnixMillis jst(const char* text) {
  return utc(text) - 9 * kHour;
}

// "Sun 2026-03-29 03:00:00 CEST" in the current TZ; milliseconds appended when not whole.
std::string local(UnixMillis t) {
  const auto secs = static_cast<std::time_t>(t >= 0 ? t / kSecond : (t - 999) / kSecond);
  std::tm tm{};
  REQUIRE(localtime_r(&secs, &tm) != nullptr);
  std::array<char, 64> buf{};
  const auto n = std::strftime(buf.data(), buf.size(), "%a %Y-%m-%d %H:%M:%S %Z", &tm);
  std::string out(buf.data(), n);
  const auto ms = t - static_cast<UnixMillis>(secs) * kSecond;
  if (ms != 0) out += " +" + std::to_string(ms) + "ms";
  return out;
}

std::string local(std::optional<UnixMillis> t) {
  return t ? local(*t) : std::string("none");
}

CalendarSchedule parse_ok(std::string_view text) {
  auto parsed = parse_calendar(text);
  if (const auto* error = std::get_if<std::string>(&parsed))
    FAIL("\"" << std::string(text) << "\" refused: " << *error);
  return std::get<CalendarSchedule>(parsed);
}

// The error for `text`, or what it was accepted as.
std::string parse_error(std::string_view text) {
  auto parsed = parse_calendar(text);
  if (const auto* error = std::get_if<std::string>(&parsed)) return *error;
  return "<accepted as \"" + to_string(std::get<CalendarSchedule>(parsed)) + "\">";
}

std::string next(std::string_view text, UnixMillis after) {
  return local(next_after(parse_ok(text), after));
}

std::string last(std::string_view text, UnixMillis at) {
  return local(last_at_or_before(parse_ok(text), at));
}

constexpr std::uint8_t kMon = 0x01, kTue = 0x02, kWed = 0x04, kThu = 0x08, kFri = 0x10, kSat = 0x20,
                       kSun = 0x40;

}  // namespace

TEST_CASE("every syntax form parses to its schedule and normalised form") {
  struct Case {
    std::string_view text;
    CalendarSchedule want;
    std::string_view normal;
  };
  const Case cases[] = {
      {"daily", {}, "00:00:00"},
      {"DAILY", {}, "00:00:00"},
      {"01:00", {.hour = 1}, "01:00:00"},
      {"1:05", {.hour = 1, .minute = 5}, "01:05:00"},
      {"23:59:59", {.hour = 23, .minute = 59, .second = 59}, "23:59:59"},
      {"00:00:00", {}, "00:00:00"},
      {"daily 01:00", {.hour = 1}, "01:00:00"},
      {"  Daily\t01:00:30  ", {.hour = 1, .second = 30}, "01:00:30"},
      {"Mon..Fri 01:00",
       {.weekdays = kMon | kTue | kWed | kThu | kFri, .hour = 1},
       "Mon..Fri 01:00:00"},
      {"Sat,Sun 03:30", {.weekdays = kSat | kSun, .hour = 3, .minute = 30}, "Sat,Sun 03:30:00"},
      {"Mon 01:00", {.weekdays = kMon, .hour = 1}, "Mon 01:00:00"},
      {"Sun 01:00", {.weekdays = kSun, .hour = 1}, "Sun 01:00:00"},
      {"mon,WED..fri 01:00",
       {.weekdays = kMon | kWed | kThu | kFri, .hour = 1},
       "Mon,Wed..Fri 01:00:00"},
      {"Monday..Wednesday 07:15",
       {.weekdays = kMon | kTue | kWed, .hour = 7, .minute = 15},
       "Mon..Wed 07:15:00"},
      {"Fri,Mon,Mon 01:00", {.weekdays = kMon | kFri, .hour = 1}, "Mon,Fri 01:00:00"},
      {"Mon..Mon 01:00", {.weekdays = kMon, .hour = 1}, "Mon 01:00:00"},
      {"Mon..Sun 01:00", {.hour = 1}, "01:00:00"},
      {"Sat", {.weekdays = kSat}, "Sat 00:00:00"},
      {"weekly", {.weekdays = kMon}, "Mon 00:00:00"},
      {"hourly", {.every_hour = true}, "*:00:00"},
      {"*:30", {.every_hour = true, .minute = 30}, "*:30:00"},
      {"Mon..Fri *:15:10",
       {.weekdays = kMon | kTue | kWed | kThu | kFri,
        .every_hour = true,
        .minute = 15,
        .second = 10},
       "Mon..Fri *:15:10"},
      {"02:30 UTC", {.hour = 2, .minute = 30, .utc = true}, "02:30:00 UTC"},
      {"daily utc", {.utc = true}, "00:00:00 UTC"},
      {"daily 01:00 UTC", {.hour = 1, .utc = true}, "01:00:00 UTC"},
      {"weekly UTC", {.weekdays = kMon, .utc = true}, "Mon 00:00:00 UTC"},
      {"hourly UTC", {.every_hour = true, .utc = true}, "*:00:00 UTC"},
      {"Sat,Sun 03:30 UTC",
       {.weekdays = kSat | kSun, .hour = 3, .minute = 30, .utc = true},
       "Sat,Sun 03:30:00 UTC"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    const CalendarSchedule got = parse_ok(c.text);
    CHECK(to_string(got) == c.normal);
    CHECK(got == c.want);
  }
}

TEST_CASE("the normalised form reads back to the same schedule") {
  for (unsigned days = 1; days <= CalendarSchedule::kEveryDay; ++days) {
    for (const bool every_hour : {false, true}) {
      for (const bool in_utc : {false, true}) {
        const CalendarSchedule s{.weekdays = static_cast<std::uint8_t>(days),
                                 .every_hour = every_hour,
                                 .hour = every_hour ? 0 : 17,
                                 .minute = 4,
                                 .second = 59,
                                 .utc = in_utc};
        const std::string text = to_string(s);
        CAPTURE(text);
        const auto back = parse_calendar(text);
        REQUIRE(std::holds_alternative<CalendarSchedule>(back));
        CHECK(std::get<CalendarSchedule>(back) == s);
      }
    }
  }
  CHECK(to_string(CalendarSchedule{.weekdays = kMon | kTue | kThu | kFri | kSat | kSun,
                                   .hour = 9}) == "Mon,Tue,Thu..Sun 09:00:00");
}

TEST_CASE("bad input is refused with a message saying what is wrong") {
  struct Case {
    std::string_view text;
    std::string_view error;
  };
  const Case cases[] = {
      {"", "empty calendar schedule (want e.g. \"daily 01:00\" or \"Mon..Fri 01:00\")"},
      {" \t ", "empty calendar schedule (want e.g. \"daily 01:00\" or \"Mon..Fri 01:00\")"},
      {"Mnday 01:00", "unknown weekday \"Mnday\""},
      {"Mon..Fryday 01:00", "unknown weekday \"Fryday\""},
      {"Mon-Fri 01:00", "unknown weekday \"Mon-Fri\""},
      {"Mon,,Tue 01:00", "empty weekday in the list \"Mon,,Tue\""},
      {"Mon, 01:00", "empty weekday in the list \"Mon,\""},
      {"Mon.. 01:00", "weekday range \"Mon..\" needs a day on both sides of \"..\""},
      {"24:00", "hour must be 0-23, got 24"},
      {"daily 25:00", "hour must be 0-23, got 25"},
      {"01:60", "minute must be 0-59, got 60"},
      {"01:00:60", "second must be 0-59, got 60"},
      {"1", "bad time \"1\" (want HH:MM or HH:MM:SS)"},
      {"01:0", "bad time \"01:0\" (want HH:MM or HH:MM:SS)"},
      {"001:00", "bad time \"001:00\" (want HH:MM or HH:MM:SS)"},
      {"01:00:00:00", "bad time \"01:00:00:00\" (want HH:MM or HH:MM:SS)"},
      {"01:00:00.5", "bad time \"01:00:00.5\" (want HH:MM or HH:MM:SS)"},
      {"1h", "bad time \"1h\" (want HH:MM or HH:MM:SS)"},
      {"daily Mon", "bad time \"Mon\" (want HH:MM or HH:MM:SS)"},
      {"2026-01-01 01:00", "bad time \"2026-01-01\" (want HH:MM or HH:MM:SS)"},
      {"UTC", "\"UTC\" needs a time or day before it"},
      {"01:00 CET",
       "unexpected \"CET\" after the time (weekdays go before it, as in \"Mon 01:00\"; only "
       "\"UTC\" may follow it)"},
      {"01:00 Mon",
       "unexpected \"Mon\" after the time (weekdays go before it, as in \"Mon 01:00\"; only "
       "\"UTC\" may follow it)"},
      {"weekly 01:00", "\"weekly\" takes no time; write \"Mon HH:MM\""},
      {"hourly 01:00", "\"hourly\" takes no time; write \"*:MM\""},
      {"Mon daily", "weekdays take a time, not \"daily\", as in \"Mon..Fri 01:00\""},
      {"daily 01:00 02:00",
       "too many words in \"daily 01:00 02:00\" (want [WEEKDAYS] HH:MM[:SS] [UTC])"},
      {"Mon, Tue 01:00", "too many words in \"Mon, Tue 01:00\" (want [WEEKDAYS] HH:MM[:SS] [UTC])"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    CHECK(parse_error(c.text) == c.error);
  }
}

TEST_CASE("a weekday range that wraps past Sunday is refused with the list to write instead") {
  CHECK(parse_error("Fri..Mon 01:00") ==
        "weekday range \"Fri..Mon\" runs past Sunday; write \"Fri..Sun,Mon\"");
  CHECK(parse_error("Sun..Mon") ==
        "weekday range \"Sun..Mon\" runs past Sunday; write \"Sun,Mon\"");
  CHECK(parse_error("Mon,sat..tue 01:00") ==
        "weekday range \"sat..tue\" runs past Sunday; write \"Sat..Sun,Mon..Tue\"");
  // What the message suggests means what the user meant.
  CHECK(parse_ok("Fri..Sun,Mon 01:00").weekdays == (kFri | kSat | kSun | kMon));
  CHECK(parse_ok("Sat..Sun,Mon..Tue").weekdays == (kSat | kSun | kMon | kTue));
}

TEST_CASE("next_after fires strictly after the given time and crosses midnight") {
  TimeZone zone(kTokyo);
  CHECK(next("01:00", jst("2026-05-02 00:59:59") + 999) == "Sat 2026-05-02 01:00:00 JST");
  CHECK(next("01:00", jst("2026-05-02 01:00:00") - 1) == "Sat 2026-05-02 01:00:00 JST");
  CHECK(next("01:00", jst("2026-05-02 01:00:00")) == "Sun 2026-05-03 01:00:00 JST");
  CHECK(next("01:00", jst("2026-05-02 01:00:00") + 1) == "Sun 2026-05-03 01:00:00 JST");
  CHECK(next("01:00", jst("2026-05-01 23:59:59")) == "Sat 2026-05-02 01:00:00 JST");
  CHECK(next("23:30", jst("2026-05-01 23:45:00")) == "Sat 2026-05-02 23:30:00 JST");
  CHECK(next("daily", jst("2026-05-01 23:59:59") + 999) == "Sat 2026-05-02 00:00:00 JST");
  CHECK(next("daily", jst("2026-05-02 00:00:00")) == "Sun 2026-05-03 00:00:00 JST");
  CHECK(next("daily 06:07:08", jst("2026-12-31 12:00:00")) == "Fri 2027-01-01 06:07:08 JST");
  CHECK(next("daily", jst("2028-02-28 12:00:00")) == "Tue 2028-02-29 00:00:00 JST");
  CHECK(next("hourly", jst("2026-05-01 23:30:00")) == "Sat 2026-05-02 00:00:00 JST");
  CHECK(next("hourly", jst("2026-05-02 00:00:00")) == "Sat 2026-05-02 01:00:00 JST");
  CHECK(next("*:45:30", jst("2026-05-01 23:50:00")) == "Sat 2026-05-02 00:45:30 JST");
  // Consecutive firings of a daily schedule are a day apart.
  const CalendarSchedule daily = parse_ok("03:00");
  UnixMillis t = jst("2026-05-01 12:00:00");
  for (int i = 0; i < 10; ++i) {
    const UnixMillis n = next_after(daily, t);
    if (i > 0) CHECK(n - t == 24 * kHour);
    t = n;
  }
  CHECK(local(t) == "Mon 2026-05-11 03:00:00 JST");
}

TEST_CASE("weekday lists and ranges fire on the listed days only") {
  TimeZone zone(kTokyo);
  // 2026-05-01 is a Friday.
  CHECK(next("Mon..Fri 01:00", jst("2026-05-01 00:30:00")) == "Fri 2026-05-01 01:00:00 JST");
  CHECK(next("Mon..Fri 01:00", jst("2026-05-01 02:00:00")) == "Mon 2026-05-04 01:00:00 JST");
  CHECK(next("Sat,Sun 03:30", jst("2026-05-06 12:00:00")) == "Sat 2026-05-09 03:30:00 JST");
  CHECK(next("Sat,Sun 03:30", jst("2026-05-09 03:30:00")) == "Sun 2026-05-10 03:30:00 JST");
  CHECK(next("Sat,Sun 03:30", jst("2026-05-10 03:30:00")) == "Sat 2026-05-16 03:30:00 JST");
  CHECK(next("Mon 01:00", jst("2026-05-04 01:00:00")) == "Mon 2026-05-11 01:00:00 JST");
  CHECK(next("Sun 01:00", jst("2026-05-04 01:00:00")) == "Sun 2026-05-10 01:00:00 JST");
  CHECK(next("weekly", jst("2026-05-10 23:59:59")) == "Mon 2026-05-11 00:00:00 JST");
  CHECK(next("weekly", jst("2026-05-11 00:00:00")) == "Mon 2026-05-18 00:00:00 JST");
  CHECK(next("Fri..Sun,Mon 22:00", jst("2026-05-05 12:00:00")) == "Fri 2026-05-08 22:00:00 JST");
  CHECK(next("Sat,Sun *:30", jst("2026-05-08 23:40:00")) == "Sat 2026-05-09 00:30:00 JST");
  CHECK(next("Sat,Sun *:30", jst("2026-05-10 23:40:00")) == "Sat 2026-05-16 00:30:00 JST");

  const CalendarSchedule s = parse_ok("Mon,Wed..Fri 01:00");
  std::string days;
  UnixMillis t = jst("2026-05-03 00:00:00");  // a Sunday
  for (int i = 0; i < 8; ++i) {
    t = next_after(s, t);
    days += local(t).substr(0, 4);
  }
  CHECK(days == "Mon Wed Thu Fri Mon Wed Thu Fri ");
  CHECK(local(t) == "Fri 2026-05-15 01:00:00 JST");
}

TEST_CASE("the UTC suffix reads times and weekdays in UTC, not the local zone") {
  {
    TimeZone zone(kTokyo);
    CHECK(format_time(next_after(parse_ok("01:00 UTC"), utc("2026-05-01 00:30:00"))) ==
          "2026-05-01T01:00:00Z");
    CHECK(format_time(next_after(parse_ok("01:00"), utc("2026-05-01 00:30:00"))) ==
          "2026-05-01T16:00:00Z");
    // Sunday 20:00 UTC is Monday 05:00 in Tokyo.
    CHECK(format_time(next_after(parse_ok("Mon 00:00 UTC"), utc("2026-05-03 20:00:00"))) ==
          "2026-05-04T00:00:00Z");
    CHECK(format_time(next_after(parse_ok("Mon 00:00"), utc("2026-05-03 20:00:00"))) ==
          "2026-05-10T15:00:00Z");
    CHECK(format_time(*last_at_or_before(parse_ok("01:00 UTC"), utc("2026-05-01 00:59:59"))) ==
          "2026-04-30T01:00:00Z");
  }
  {
    TimeZone zone("IST-5:30");  // India: UTC+05:30, so local hours start at :30 UTC
    CHECK(format_time(next_after(parse_ok("hourly UTC"), utc("2026-05-01 10:10:00"))) ==
          "2026-05-01T11:00:00Z");
    CHECK(format_time(next_after(parse_ok("hourly"), utc("2026-05-01 10:10:00"))) ==
          "2026-05-01T10:30:00Z");
  }
  for (const auto& tz : berlin_zones()) {
    TimeZone zone(tz);
    CAPTURE(tz);
    // A UTC schedule does not move with daylight saving time.
    CHECK(format_time(next_after(parse_ok("02:30 UTC"), utc("2026-03-29 00:00:00"))) ==
          "2026-03-29T02:30:00Z");
    CHECK(format_time(next_after(parse_ok("02:30 UTC"), utc("2026-10-25 02:30:00"))) ==
          "2026-10-26T02:30:00Z");
  }
  // Before 1970 too.
  CHECK(next_after(parse_ok("daily UTC"), -1) == 0);
  CHECK(last_at_or_before(parse_ok("daily UTC"), -1) == -24 * kHour);
}

TEST_CASE("spring forward: a time that does not exist fires at the first valid time after it") {
  // Europe/Berlin, Sunday 2026-03-29: at 02:00 CET (01:00 UTC) clocks go to 03:00 CEST.
  for (const auto& tz : berlin_zones()) {
    TimeZone zone(tz);
    CAPTURE(tz);
    REQUIRE(local(utc("2026-03-29 01:00:00")) == "Sun 2026-03-29 03:00:00 CEST");
    const UnixMillis midnight = utc("2026-03-28 23:00:00");  // 00:00 CET on the 29th
    CHECK(next("02:30", midnight) == "Sun 2026-03-29 03:00:00 CEST");
    CHECK(next_after(parse_ok("02:30"), midnight) == utc("2026-03-29 01:00:00"));
    CHECK(next("02:30", utc("2026-03-29 01:00:00")) == "Mon 2026-03-30 02:30:00 CEST");
    CHECK(next("02:30", utc("2026-03-27 23:00:00")) == "Sat 2026-03-28 02:30:00 CET");
    CHECK(next("02:00", midnight) == "Sun 2026-03-29 03:00:00 CEST");
    CHECK(next("02:59:59", midnight) == "Sun 2026-03-29 03:00:00 CEST");
    CHECK(next("03:00", midnight) == "Sun 2026-03-29 03:00:00 CEST");
    CHECK(next("03:30", midnight) == "Sun 2026-03-29 03:30:00 CEST");
    CHECK(next("01:59:59", midnight) == "Sun 2026-03-29 01:59:59 CET");
    CHECK(next("Sun 02:30", utc("2026-03-23 00:00:00")) == "Sun 2026-03-29 03:00:00 CEST");
    CHECK(next("Sat,Mon 02:30", utc("2026-03-28 12:00:00")) == "Mon 2026-03-30 02:30:00 CEST");

    // Hourly: 01:00 CET, then 03:00 CEST (02:00 does not exist), 04:00 CEST.
    const CalendarSchedule hourly = parse_ok("hourly");
    UnixMillis t = utc("2026-03-28 23:30:00");
    std::string fired;
    for (int i = 0; i < 3; ++i) fired += local(t = next_after(hourly, t)) + "|";
    CHECK(fired ==
          "Sun 2026-03-29 01:00:00 CET|Sun 2026-03-29 03:00:00 CEST|Sun 2026-03-29 04:00:00 CEST|");
    // Half past: 01:30 CET, 03:00 CEST (for 02:30), 03:30 CEST.
    const CalendarSchedule half = parse_ok("*:30");
    t = utc("2026-03-29 00:00:00");  // 01:00 CET
    fired.clear();
    for (int i = 0; i < 3; ++i) fired += local(t = next_after(half, t)) + "|";
    CHECK(fired ==
          "Sun 2026-03-29 01:30:00 CET|Sun 2026-03-29 03:00:00 CEST|Sun 2026-03-29 03:30:00 CEST|");

    CHECK(last("02:30", utc("2026-03-29 01:00:00")) == "Sun 2026-03-29 03:00:00 CEST");
    CHECK(last("02:30", utc("2026-03-29 01:00:00") - 1) == "Sat 2026-03-28 02:30:00 CET");
    CHECK(last("hourly", utc("2026-03-29 01:59:59")) == "Sun 2026-03-29 03:00:00 CEST");
    CHECK(last("hourly", utc("2026-03-29 00:59:59")) == "Sun 2026-03-29 01:00:00 CET");
  }
}

TEST_CASE("fall back: a time that occurs twice fires once, at its first occurrence") {
  // Europe/Berlin, Sunday 2026-10-25: at 03:00 CEST (01:00 UTC) clocks go back to 02:00 CET.
  for (const auto& tz : berlin_zones()) {
    TimeZone zone(tz);
    CAPTURE(tz);
    REQUIRE(local(utc("2026-10-25 01:00:00")) == "Sun 2026-10-25 02:00:00 CET");
    const UnixMillis midnight = utc("2026-10-24 22:00:00");  // 00:00 CEST on the 25th
    CHECK(next("02:30", midnight) == "Sun 2026-10-25 02:30:00 CEST");
    CHECK(next_after(parse_ok("02:30"), midnight) == utc("2026-10-25 00:30:00"));
    // Not again at 02:30 CET, an hour later.
    CHECK(next("02:30", utc("2026-10-25 00:30:00")) == "Mon 2026-10-26 02:30:00 CET");
    CHECK(next("02:30", utc("2026-10-25 01:15:00")) == "Mon 2026-10-26 02:30:00 CET");
    CHECK(next("02:00", midnight) == "Sun 2026-10-25 02:00:00 CEST");
    CHECK(next("02:00", utc("2026-10-25 00:00:00")) == "Mon 2026-10-26 02:00:00 CET");
    CHECK(next("02:59:59", midnight) == "Sun 2026-10-25 02:59:59 CEST");
    CHECK(next("03:00", midnight) == "Sun 2026-10-25 03:00:00 CET");
    CHECK(next("01:59:59", utc("2026-10-24 12:00:00")) == "Sun 2026-10-25 01:59:59 CEST");
    CHECK(next("Sun 02:30", utc("2026-10-25 00:30:00")) == "Sun 2026-11-01 02:30:00 CET");

    // Hourly: 02:00 CEST, then 03:00 CET; not 02:00 CET in between.
    const CalendarSchedule hourly = parse_ok("hourly");
    UnixMillis t = utc("2026-10-24 23:30:00");
    std::string fired;
    for (int i = 0; i < 3; ++i) fired += local(t = next_after(hourly, t)) + "|";
    CHECK(fired ==
          "Sun 2026-10-25 02:00:00 CEST|Sun 2026-10-25 03:00:00 CET|Sun 2026-10-25 04:00:00 CET|");
    const CalendarSchedule half = parse_ok("*:30");
    t = utc("2026-10-25 00:00:00");
    fired.clear();
    for (int i = 0; i < 2; ++i) fired += local(t = next_after(half, t)) + "|";
    CHECK(fired == "Sun 2026-10-25 02:30:00 CEST|Sun 2026-10-25 03:30:00 CET|");

    CHECK(last("02:30", utc("2026-10-25 01:45:00")) == "Sun 2026-10-25 02:30:00 CEST");
    CHECK(last("02:30", utc("2026-10-25 00:30:00") - 1) == "Sat 2026-10-24 02:30:00 CEST");
    CHECK(last("hourly", utc("2026-10-25 01:30:00")) == "Sun 2026-10-25 02:00:00 CEST");
    CHECK(last("03:00", utc("2026-10-25 01:59:59")) == "Sat 2026-10-24 03:00:00 CEST");
  }
}

TEST_CASE("last_at_or_before finds the latest firing at or before the time") {
  TimeZone zone(kTokyo);
  CHECK(last("01:00", jst("2026-05-02 01:00:00")) == "Sat 2026-05-02 01:00:00 JST");
  CHECK(last("01:00", jst("2026-05-02 01:00:00") - 1) == "Fri 2026-05-01 01:00:00 JST");
  CHECK(last("01:00", jst("2026-05-02 01:00:00") + 1) == "Sat 2026-05-02 01:00:00 JST");
  CHECK(last("daily", jst("2027-01-01 00:00:00") - 1) == "Thu 2026-12-31 00:00:00 JST");
  CHECK(last("Mon 01:00", jst("2026-05-10 12:00:00")) == "Mon 2026-05-04 01:00:00 JST");
  // Seven days less a millisecond back.
  CHECK(last("Mon 01:00", jst("2026-05-11 01:00:00") - 1) == "Mon 2026-05-04 01:00:00 JST");
  CHECK(last("Sat,Sun 03:30", jst("2026-05-15 12:00:00")) == "Sun 2026-05-10 03:30:00 JST");
  CHECK(last("Mon..Fri 01:00", jst("2026-05-04 00:59:59")) == "Fri 2026-05-01 01:00:00 JST");
  CHECK(last("hourly", jst("2026-05-02 12:34:56")) == "Sat 2026-05-02 12:00:00 JST");
  CHECK(last("hourly", jst("2026-05-02 00:00:00") - 1) == "Fri 2026-05-01 23:00:00 JST");
  CHECK(last("Sat,Sun *:30", jst("2026-05-11 12:00:00")) == "Sun 2026-05-10 23:30:00 JST");
  // A schedule without weekdays (parse_calendar never makes one) never fires.
  const CalendarSchedule never{.weekdays = 0, .hour = 1};
  CHECK_FALSE(last_at_or_before(never, jst("2026-05-02 12:00:00")).has_value());
  CHECK(next_after(never, jst("2026-05-02 12:00:00")) == std::numeric_limits<UnixMillis>::max());
}

TEST_CASE("next_after and last_at_or_before agree around the DST changes") {
  const std::string_view schedules[] = {
      "02:30",     "02:00",          "03:00",        "01:59:59",  "hourly", "*:30", "*:59:59",
      "Sun 02:30", "Mon..Sat 02:30", "Sat,Sun *:15", "02:30 UTC", "daily",  "*:15"};
  std::vector<std::string> zones = berlin_zones();
  // Clocks change at half past: 02:30 -> 03:30 in March, 02:30 -> 01:30 in October.
  zones.emplace_back("XST-1XDT,M3.5.0/2:30,M10.5.0/2:30");
  for (const auto& tz : zones) {
    TimeZone zone(tz);
    CAPTURE(tz);
    for (const char* day : {"2026-03-28 18:00:00", "2026-10-24 18:00:00"}) {
      for (const auto text : schedules) {
        CAPTURE(text);
        const CalendarSchedule s = parse_ok(text);
        int mismatches = 0;
        // 14 hours in steps of 7 min 13.017 s, through the night of the change.
        for (UnixMillis t = utc(day); t < utc(day) + 14 * kHour; t += 433017) {
          const UnixMillis n = next_after(s, t);
          const auto before = last_at_or_before(s, t);
          const auto at_n = last_at_or_before(s, n);
          const auto before_n = last_at_or_before(s, n - 1);
          const bool ok = n > t && n % kSecond == 0 && before && *before <= t &&
                          next_after(s, *before) == n && at_n == n && before_n == before;
          if (!ok && mismatches++ == 0) {
            CAPTURE(local(t));
            CAPTURE(local(n));
            CAPTURE(local(before));
            CAPTURE(local(at_n));
            CAPTURE(local(before_n));
            FAIL_CHECK("next_after and last_at_or_before disagree");
          }
        }
        CHECK(mismatches == 0);
      }
    }
  }
}
