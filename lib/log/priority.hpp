// Maps spdlog levels to syslog priorities (0-7), the numbers the journal's
// PRIORITY= field and sd-daemon.h's "<N>" line prefixes carry.
#pragma once

#include <spdlog/common.h>

namespace pb::log {

// trace and debug -> 7 (debug), info -> 6, warn -> 4, err -> 3, critical -> 2.
// Nothing maps to notice (5) or the emergency range (0, 1): beed has no use
// for them and journald treats 0 as "broadcast to all terminals".
int syslog_priority(spdlog::level::level_enum level) noexcept;

}  // namespace pb::log
