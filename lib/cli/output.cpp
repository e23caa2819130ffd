#include "cli/output.hpp"

#include <algorithm>
#include <span>
#include <string_view>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace pb::cli {
namespace {

namespace json = boost::json;

const json::value* field(const json::value& v, std::string_view key) {
  const json::object* o = v.if_object();
  return o != nullptr ? o->if_contains(key) : nullptr;
}

std::optional<std::int64_t> integer(const json::value& v, std::string_view key) {
  const json::value* f = field(v, key);
  if (f == nullptr) return std::nullopt;
  if (f->is_int64()) return f->get_int64();
  if (f->is_uint64()) return static_cast<std::int64_t>(f->get_uint64());
  return std::nullopt;
}

// Cells come from warehouse feeds and stores: a control character could break
// the table or drive the terminal, so none reaches the screen.
std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  return out;
}

// A cell's text: strings as they are, numbers in decimal, null or missing as "-".
std::string cell(const json::value& v, std::string_view key) {
  const json::value* f = field(v, key);
  if (f == nullptr || f->is_null()) return "-";
  if (f->is_string()) return f->get_string().empty() ? "-" : printable(f->get_string());
  if (f->is_bool()) return f->get_bool() ? "yes" : "no";
  return printable(json::serialize(*f));
}

std::string text(const json::value& v, std::string_view key, std::string_view fallback) {
  const json::value* f = field(v, key);
  if (f == nullptr || !f->is_string() || f->get_string().empty()) return std::string(fallback);
  return printable(f->get_string());
}

std::string count_text(const json::value& v, std::string_view key) {
  const std::optional<std::int64_t> n = integer(v, key);
  return n ? std::to_string(*n) : "?";
}

const json::array& array_at(const json::value& v, std::string_view key) {
  static const json::array empty;
  const json::value* f = field(v, key);
  return f != nullptr && f->is_array() ? f->get_array() : empty;
}

// Display width, counting UTF-8 code points rather than bytes.
std::size_t width(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0u) != 0x80u; }));
}

struct Column {
  std::string_view name;
  bool right_aligned;
};

std::string render_table(std::span<const Column> columns,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const Column& c : columns) widths.push_back(c.name.size());
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], width(row[i]));

  std::string out;
  const auto emit = [&](std::span<const std::string> cells) {
    std::string line;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const std::string& c = cells[i];
      const std::string pad(widths[i] - width(c), ' ');
      if (i > 0) line += "  ";
      line += columns[i].right_aligned ? pad + c : c + pad;
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  };
  std::vector<std::string> header;
  for (const Column& c : columns) header.emplace_back(c.name);
  emit(header);
  for (const auto& row : rows) emit(row);
  return out;
}

void pretty(const json::value& v, std::string& out, std::size_t indent) {
  const std::string inner(indent + 2, ' ');
  if (const json::object* o = v.if_object()) {
    if (o->empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& [key, value] : *o) {
      if (!first) out += ",\n";
      first = false;
      out += inner + json::serialize(json::string(key)) + ": ";
      pretty(value, out, indent + 2);
    }
    out += "\n" + std::string(indent, ' ') + "}";
  } else if (const json::array* a = v.if_array()) {
    if (a->empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    bool first = true;
    for (const json::value& element : *a) {
      if (!first) out += ",\n";
      first = false;
      out += inner;
      pretty(element, out, indent + 2);
    }
    out += "\n" + std::string(indent, ' ') + "]";
  } else {
    out += json::serialize(v);
  }
}

std::string two_digits(std::int64_t n) {
  return (n < 10 ? "0" : "") + std::to_string(n);
}

// Uptime: "12s", "5m 03s", "2h 05m", "3d 04h".
std::string format_uptime(std::int64_t s) {
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m " + two_digits(s % 60) + "s";
  if (s < 86400) return std::to_string(s / 3600) + "h " + two_digits(s % 3600 / 60) + "m";
  return std::to_string(s / 86400) + "d " + two_digits(s % 86400 / 3600) + "h";
}

std::string kind_text(const json::value& v) {
  const std::string kind = text(v, "kind", "");
  return kind.empty() ? "sync" : kind + " sync";
}

}  // namespace

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

std::string format_json(const json::value& v) {
  std::string out;
  pretty(v, out, 0);
  return out + "\n";
}

std::string format_status(const json::value& data) {
  std::string out = "beed " + text(data, "version", "?");
  if (const std::optional<std::int64_t> up = integer(data, "uptime_s"))
    out += ", up " + format_uptime(*up);
  out += "\n";
  static constexpr Column kColumns[] = {
      {"CONNECTION", false}, {"STATE", false},   {"LAST-SYNC", false}, {"RESULT", false},
      {"PUSHED", true},      {"REJECTED", true}, {"NEXT-SYNC", false}};
  std::vector<std::vector<std::string>> rows;
  for (const json::value& c : array_at(data, "connections")) {
    const json::value* last = field(c, "last_sync");
    const bool has_last = last != nullptr && last->is_object();
    rows.push_back({cell(c, "name"), cell(c, "state"), has_last ? cell(*last, "started_at") : "-",
                    has_last ? cell(*last, "result") : "-", has_last ? cell(*last, "pushed") : "-",
                    has_last ? cell(*last, "rejected") : "-", cell(c, "next_sync_at")});
  }
  return out + render_table(kColumns, rows);
}

std::string format_inventory(const json::value& data) {
  static constexpr Column kColumns[] = {
      {"SKU", false},          {"QTY", true},      {"LAST-UPDATE", false}, {"STORE-QTY", true},
      {"CONFIRMED-AT", false}, {"PENDING", false}, {"ERROR", false}};
  std::vector<std::vector<std::string>> rows;
  const json::array& items = array_at(data, "items");
  for (const json::value& item : items) {
    const json::value* pending = field(item, "pending");
    rows.push_back({cell(item, "sku"), cell(item, "quantity"), cell(item, "updated_at"),
                    cell(item, "store_quantity"), cell(item, "confirmed_at"),
                    pending != nullptr && pending->is_bool() && pending->get_bool() ? "yes" : "no",
                    cell(item, "error")});
  }
  std::string out = render_table(kColumns, rows);
  const json::value* truncated = field(data, "truncated");
  if (truncated != nullptr && truncated->is_bool() && truncated->get_bool())
    out += "(only the first " + std::to_string(items.size()) +
           " items shown; raise --limit to see more)\n";
  return out;
}

std::string format_connections(const json::value& data) {
  static constexpr Column kColumns[] = {{"CONNECTION", false}, {"STATE", false},
                                        {"SCHEDULE", false},   {"AUTOMATIC", false},
                                        {"WAREHOUSE", false},  {"STORE", false}};
  std::vector<std::vector<std::string>> rows;
  for (const json::value& c : array_at(data, "connections")) {
    const std::optional<std::int64_t> schedule = integer(c, "schedule_s");
    rows.push_back({cell(c, "name"), cell(c, "state"),
                    schedule ? format_interval_s(*schedule) : "-", cell(c, "automatic"),
                    cell(c, "warehouse"), cell(c, "store")});
  }
  return render_table(kColumns, rows);
}

std::string format_sync_started(const json::value& data) {
  const json::value* queued = field(data, "queued");
  const bool is_queued = queued != nullptr && queued->is_bool() && queued->get_bool();
  return kind_text(data) + " of " + text(data, "connection", "?") +
         (is_queued ? " queued as run " : " started as run ") + count_text(data, "run_id") + "\n";
}

std::string format_run_summary(const json::value& run) {
  std::string out = "run " + count_text(run, "id") + " (" + kind_text(run) + " of " +
                    text(run, "connection", "?") + ") finished " + text(run, "result", "?");
  if (const std::optional<std::int64_t> ms = integer(run, "duration_ms"))
    out += " in " + format_duration_ms(*ms);
  out += ": read " + count_text(run, "read") + ", changed " + count_text(run, "changed") +
         ", pushed " + count_text(run, "pushed") + ", rejected " + count_text(run, "rejected") +
         ", bad rows " + count_text(run, "bad_rows");
  const std::string error = text(run, "error", "");
  if (!error.empty()) out += "; error: " + error;
  return out + "\n";
}

ExitCode exit_code_for_run(const json::value& run) {
  const std::string result = text(run, "result", "");
  if (result == "ok") return ExitCode::ok;
  if (result == "partial") return ExitCode::run_partial;
  if (result == "failed") return ExitCode::run_failed;
  return ExitCode::daemon_error;
}

std::optional<std::string> ProgressPrinter::line(const json::value& progress) {
  const std::string phase = text(progress, "phase", "?");
  const std::int64_t elapsed = integer(progress, "elapsed_ms").value_or(0);
  const std::int64_t pushed = integer(progress, "pushed").value_or(0);
  const bool phase_changed = phase != phase_;
  if (phase == "pushing" && push_start_ms_ < 0) {
    push_start_ms_ = elapsed;
    push_start_count_ = pushed;
  }
  if (!phase_changed && elapsed - last_printed_ms_ < interval_ms_) return std::nullopt;
  phase_ = phase;
  last_printed_ms_ = elapsed;

  std::string out = "run " + count_text(progress, "run_id") + ": " + phase;
  if (phase == "pushing") {
    out += " " + std::to_string(pushed) + "/" + count_text(progress, "total");
    const std::int64_t span_ms = elapsed - push_start_ms_;
    if (span_ms > 0)
      out += " (" + with_thousands((pushed - push_start_count_) * 1000 / span_ms) + "/s)";
  }
  const std::int64_t rejected = integer(progress, "rejected").value_or(0);
  if (rejected > 0) out += ", " + std::to_string(rejected) + " rejected";
  return out + "\n";
}

}  // namespace pb::cli
