// parse_retry_after and come_back_of (retry.hpp): RFC 9110 section 10.2.3.
#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>

#include "net/retry.hpp"

namespace pb::net {
namespace {

// A day's worth: a longer wait is as good as "give up" for us, and the cap keeps
// the arithmetic far from overflow.
constexpr std::chrono::seconds kLongest{24 * 3600};

bool parse_digits(std::string_view text, int& value) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (fixed width, always GMT).
std::optional<std::chrono::system_clock::time_point> parse_imf_fixdate(std::string_view text) {
  static constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                            "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT")
    return std::nullopt;
  if (std::find(kDays.begin(), kDays.end(), text.substr(0, 3)) == kDays.end()) return std::nullopt;
  const auto month_at = std::find(kMonths.begin(), kMonths.end(), text.substr(8, 3));
  if (month_at == kMonths.end()) return std::nullopt;
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!parse_digits(text.substr(5, 2), day) || !parse_digits(text.substr(12, 4), year) ||
      !parse_digits(text.substr(17, 2), hour) || !parse_digits(text.substr(20, 2), minute) ||
      !parse_digits(text.substr(23, 2), second))
    return std::nullopt;
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(year),
                            month(static_cast<unsigned>(month_at - kMonths.begin() + 1)),
                            std::chrono::day(static_cast<unsigned>(day))};
  // 60 for a leap second, which the clock cannot show: take it as the next second.
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  return sys_days(date) + hours(hour) + minutes(minute) + seconds(second);
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  using std::chrono::milliseconds;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;

  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    // delta-seconds: digits only; a number too long for an int is "very long".
    int seconds = 0;
    if (!parse_digits(value, seconds)) return kLongest;
    return std::min<milliseconds>(std::chrono::seconds(seconds), kLongest);
  }
  const auto when = parse_imf_fixdate(value);
  if (!when) return std::nullopt;
  if (*when <= now) return milliseconds(0);
  return std::min<milliseconds>(std::chrono::ceil<milliseconds>(*when - now), kLongest);
}

std::optional<ComeBack> come_back_of(const Response& response) {
  const auto* value = response.header("Retry-After");
  if (value == nullptr) return std::nullopt;
  const auto delay = parse_retry_after(*value, std::chrono::system_clock::now());
  if (!delay) return std::nullopt;
  return ComeBack{response.status, value->substr(0, 64), *delay, now_millis() + delay->count()};
}

}  // namespace pb::net
