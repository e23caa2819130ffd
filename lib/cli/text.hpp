// Text for beectl's terminal: control characters masked, widths counted in
// code points, and numbers and durations written for people.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pb::cli {

// Cells come from warehouse feeds and stores: a control character could break
// a table or drive the terminal, so each becomes '?'.
std::string printable(std::string_view s);
// Display width, counting UTF-8 code points rather than bytes.
std::size_t width(std::string_view s);
// At most `max` characters (code points), the last one "…" if cut.
std::string shortened(std::string s, std::size_t max);
// Right-aligns `s` to `w` characters.
std::string padded_left(const std::string& s, std::size_t w);

// 3200 → "3,200".
std::string with_thousands(std::int64_t n);
// 85 → "85 ms", 12345 → "12.3 s", 125000 → "2m 05s", 7500000 → "2h 05m".
std::string format_duration_ms(std::int64_t ms);
// 3600 → "1h", 5400 → "1h30m", 45 → "45s"; 0 → "-".
std::string format_interval_s(std::int64_t seconds);
// Uptime and ETAs: "12s", "5m 03s", "2h 05m", "3d 04h".
std::string format_uptime(std::int64_t s);

}  // namespace pb::cli
