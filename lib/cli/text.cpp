#include "cli/text.hpp"

#include <algorithm>

namespace pb::cli {
namespace {

std::string two_digits(std::int64_t n) {
  return (n < 10 ? "0" : "") + std::to_string(n);
}

}  // namespace

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  return out;
}

std::size_t width(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0u) != 0x80u; }));
}

std::string shortened(std::string s, std::size_t max) {
  if (width(s) <= max) return s;
  std::size_t kept = 0;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0u) == 0x80u) continue;
    if (kept == max - 1) break;
    ++kept;
  }
  s.resize(i);
  return s + "\u2026";
}

std::string padded_left(const std::string& s, std::size_t w) {
  const std::size_t n = width(s);
  return n >= w ? s : std::string(w - n, ' ') + s;
}

std::string with_thousands(std::int64_t n) {
  std::string digits = std::to_string(n);
  const bool negative = n < 0;
  if (negative) digits.erase(0, 1);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return negative ? "-" + out : out;
}

std::string format_duration_ms(std::int64_t ms) {
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms < 59'950) {
    const std::int64_t tenths = (ms + 50) / 100;
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
  }
  const std::int64_t s = (ms + 500) / 1000;
  if (s < 3600) return std::to_string(s / 60) + "m " + two_digits(s % 60) + "s";
  return std::to_string(s / 3600) + "h " + two_digits(s % 3600 / 60) + "m";
}

std::string format_interval_s(std::int64_t seconds) {
  if (seconds <= 0) return "-";
  std::string out;
  const std::int64_t parts[] = {seconds / 86400, seconds % 86400 / 3600, seconds % 3600 / 60,
                                seconds % 60};
  const char units[] = {'d', 'h', 'm', 's'};
  for (std::size_t i = 0; i < 4; ++i)
    if (parts[i] > 0) out += std::to_string(parts[i]) + units[i];
  return out;
}

std::string format_uptime(std::int64_t s) {
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m " + two_digits(s % 60) + "s";
  if (s < 86400) return std::to_string(s / 3600) + "h " + two_digits(s % 3600 / 60) + "m";
  return std::to_string(s / 86400) + "d " + two_digits(s % 86400 / 3600) + "h";
}

}  // namespace pb::cli
