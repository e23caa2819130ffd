// Vocabulary shared by every PackageBee module: quantities, times and the
// enumerations that describe a sync run.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pb {

// A stock quantity. Signed: some warehouses report negative (oversold) stock;
// the rules clamp what is pushed to a store at zero.
using Quantity = std::int64_t;

// Wall-clock time as milliseconds since the Unix epoch; what LMDB stores and
// the control protocol sends.
using UnixMillis = std::int64_t;

UnixMillis now_millis();
// "2026-11-26T17:41:12Z" (UTC, second precision); "-" for 0.
std::string format_time(UnixMillis t);

enum class SyncKind { full, smart };
enum class Trigger { schedule, manual };
enum class RunResult { running, ok, partial, failed };
enum class MissingSkus { keep, zero };
enum class DuplicatePolicy { error, sum };

std::string_view to_string(SyncKind k);
std::string_view to_string(Trigger t);
std::string_view to_string(RunResult r);
std::string_view to_string(MissingSkus m);
std::string_view to_string(DuplicatePolicy d);

std::optional<SyncKind> parse_sync_kind(std::string_view s);
std::optional<Trigger> parse_trigger(std::string_view s);
std::optional<RunResult> parse_run_result(std::string_view s);
std::optional<MissingSkus> parse_missing_skus(std::string_view s);
std::optional<DuplicatePolicy> parse_duplicate_policy(std::string_view s);

// Connection names appear in LMDB keys, systemd instance names and command
// lines: 1-64 characters of [A-Za-z0-9_.-], starting with a letter or digit.
bool is_valid_connection_name(std::string_view name);

}  // namespace pb
