// Times as REST APIs write them (RFC 3339: "2026-11-26T17:41:12.5+01:00"), for the updated_at
// of inventory items and the cursor of incremental reads, which compares them as time points.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace pb::connectors {

// A full RFC 3339 date-time: date, 'T' (or 't' or a space), time with optional fraction, and 'Z'
// (or 'z') or a numeric offset. Fractions of a second are cut off (rounded down), which only
// makes an incremental read ask for a little more. A leap second (:60) reads as :59. nullopt for
// anything else, a date without a time or offset included.
std::optional<std::chrono::sys_seconds> parse_rfc3339(std::string_view text);

// "2026-11-26T16:41:12Z": UTC, whole seconds.
std::string format_rfc3339_utc(std::chrono::sys_seconds time);

}  // namespace pb::connectors
