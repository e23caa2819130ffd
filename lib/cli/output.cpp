#include "cli/output.hpp"

#include <algorithm>
#include <span>
#include <string_view>
#include <utility>
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

bool flag(const json::value& v, std::string_view key) {
  const json::value* f = field(v, key);
  return f != nullptr && f->is_bool() && f->get_bool();
}

// At most `max` characters (code points), the last one "…" if cut.
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

// Errors can be long (a store's whole response); a table row should not be.
constexpr std::size_t kMaxErrorCell = 60;

// "b, c" from ["b","c"].
std::string joined(const json::array& names) {
  std::string out;
  for (const json::value& name : names) {
    if (!out.empty()) out += ", ";
    out += name.is_string() ? printable(name.get_string()) : printable(json::serialize(name));
  }
  return out;
}

// The STATE cell of status: "syncing 4000/10000" while a run pushes,
// "syncing (reading)" before, ", paused" when automatic syncs are.
std::string state_cell(const json::value& connection) {
  std::string state = cell(connection, "state");
  const json::value* progress = field(connection, "progress");
  if (progress != nullptr && progress->is_object()) {
    const std::string phase = text(*progress, "phase", "?");
    state = phase == "pushing" ? "syncing " + count_text(*progress, "pushed") + "/" +
                                     count_text(*progress, "total")
                               : "syncing (" + phase + ")";
  }
  if (flag(connection, "paused") && state != "paused") state += ", paused";
  return state;
}

std::string file_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// Right-aligns `s` to `w` characters.
std::string padded_left(const std::string& s, std::size_t w) {
  const std::size_t n = width(s);
  return n >= w ? s : std::string(w - n, ' ') + s;
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
    rows.push_back({cell(c, "name"), state_cell(c), has_last ? cell(*last, "started_at") : "-",
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

std::string format_history(const json::value& data) {
  const json::array& runs = array_at(data, "runs");
  if (runs.empty()) return "no runs recorded for " + text(data, "connection", "?") + "\n";
  static constexpr Column kColumns[] = {{"RUN", true},      {"STARTED", false}, {"KIND", false},
                                        {"TRIGGER", false}, {"RESULT", false},  {"PUSHED", true},
                                        {"REJECTED", true}, {"DURATION", true}, {"ERROR", false}};
  std::vector<std::vector<std::string>> rows;
  bool any_error = false;
  for (const json::value& run : runs) {
    const std::string result = text(run, "result", "?");
    const std::optional<std::int64_t> ms = integer(run, "duration_ms");
    // A running run's duration is not known yet, whatever beed put there.
    const bool finished = result != "running";
    std::string error = "-";
    if (result == "failed" || result == "partial") {
      const std::string e = text(run, "error", "");
      if (!e.empty()) {
        error = shortened(e, kMaxErrorCell);
        any_error = true;
      }
    }
    rows.push_back({cell(run, "id"), cell(run, "started_at"), cell(run, "kind"),
                    cell(run, "trigger"), result, cell(run, "pushed"), cell(run, "rejected"),
                    finished && ms ? format_duration_ms(*ms) : "-", std::move(error)});
  }
  // Without errors to show, an ERROR column of dashes would only widen the table.
  return render_table(std::span<const Column>(kColumns).first(any_error ? 9 : 8), rows);
}

std::string format_diff(const json::value& data) {
  const json::array& changes = array_at(data, "changes");
  const std::int64_t total =
      integer(data, "total").value_or(static_cast<std::int64_t>(changes.size()));

  std::string source;
  const auto add = [&source](const std::string& part) {
    source += (source.empty() ? " (" : ", ") + part;
  };
  if (const std::string feed = text(data, "feed", ""); !feed.empty())
    add("feed " + printable(file_name(feed)));
  if (const std::optional<std::int64_t> read = integer(data, "read"))
    add(std::to_string(*read) + (*read == 1 ? " row" : " rows"));
  if (const std::optional<std::int64_t> bad = integer(data, "bad_rows"); bad && *bad > 0)
    add(std::to_string(*bad) + (*bad == 1 ? " bad row" : " bad rows"));
  if (!source.empty()) source += ")";

  if (total == 0 && changes.empty()) return "nothing to push" + source + "\n";

  static constexpr Column kColumns[] = {
      {"SKU", false}, {"WAREHOUSE", false}, {"PUSH", true}, {"STORE", true}, {"REASON", false}};
  std::vector<std::vector<std::string>> rows;
  for (const json::value& change : changes) {
    // "7→5": the warehouse's previous quantity and the one it has now; "-"
    // when beed has none on record; one number when it did not change.
    const std::string now = cell(change, "quantity");
    const std::string before = cell(change, "previous_quantity");
    rows.push_back({cell(change, "sku"), before == now ? now : before + "\u2192" + now,
                    cell(change, "wanted"), cell(change, "store_quantity"),
                    cell(change, "reason")});
  }
  std::string out = render_table(kColumns, rows);
  if (flag(data, "truncated") || static_cast<std::int64_t>(changes.size()) < total)
    out += "(only the first " + std::to_string(changes.size()) +
           " shown; raise --limit, or use --limit 0, to see all)\n";
  return out + std::to_string(total) + (total == 1 ? " SKU" : " SKUs") + " would be pushed" +
         source + "\n";
}

std::string format_pause_state(const json::value& data) {
  const std::string name = text(data, "connection", "?");
  if (flag(data, "paused")) return name + ": automatic syncs paused\n";
  const std::string next = text(data, "next_sync_at", "");
  return name + ": automatic syncs resumed" + (next.empty() ? "" : ", next at " + next) + "\n";
}

std::string format_reload(const json::value& data) {
  static constexpr std::pair<std::string_view, std::string_view> kLists[] = {
      {"added", "added"},
      {"removed", "removed"},
      {"changed", "changed"},
      {"restart_required", "needs a restart to take effect"}};
  std::string out;
  for (const auto& [key, label] : kLists)
    if (const json::array& names = array_at(data, key); !names.empty())
      out += std::string(label) + ": " + joined(names) + "\n";
  return out.empty() ? "configuration reloaded, nothing changed\n" : out;
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

void PushRate::observe(const json::value& progress) {
  if (start_ms_ >= 0 || text(progress, "phase", "") != "pushing") return;
  start_ms_ = integer(progress, "elapsed_ms").value_or(0);
  start_count_ = integer(progress, "pushed").value_or(0);
}

std::optional<std::int64_t> PushRate::per_second(const json::value& progress) const {
  const std::int64_t span_ms = integer(progress, "elapsed_ms").value_or(0) - start_ms_;
  if (start_ms_ < 0 || span_ms <= 0) return std::nullopt;
  return (integer(progress, "pushed").value_or(0) - start_count_) * 1000 / span_ms;
}

std::optional<std::int64_t> PushRate::eta_s(const json::value& progress) const {
  const std::int64_t span_ms = integer(progress, "elapsed_ms").value_or(0) - start_ms_;
  const std::int64_t pushed = integer(progress, "pushed").value_or(0);
  const std::int64_t done = pushed - start_count_;
  const std::optional<std::int64_t> total = integer(progress, "total");
  if (start_ms_ < 0 || span_ms <= 0 || done <= 0 || !total || *total < pushed) return std::nullopt;
  // remaining / (done / span), in whole seconds rounded up.
  const std::int64_t left_ms = (*total - pushed) * span_ms / done;
  return (left_ms + 999) / 1000;
}

std::optional<std::string> ProgressPrinter::line(const json::value& progress) {
  const std::string phase = text(progress, "phase", "?");
  const std::int64_t elapsed = integer(progress, "elapsed_ms").value_or(0);
  const std::int64_t pushed = integer(progress, "pushed").value_or(0);
  const bool phase_changed = phase != phase_;
  rate_.observe(progress);
  if (!phase_changed && elapsed - last_printed_ms_ < interval_ms_) return std::nullopt;
  phase_ = phase;
  last_printed_ms_ = elapsed;

  std::string out = "run " + count_text(progress, "run_id") + ": " + phase;
  if (phase == "pushing") {
    out += " " + std::to_string(pushed) + "/" + count_text(progress, "total");
    if (const std::optional<std::int64_t> rate = rate_.per_second(progress))
      out += " (" + with_thousands(*rate) + "/s)";
  }
  const std::int64_t rejected = integer(progress, "rejected").value_or(0);
  if (rejected > 0) out += ", " + std::to_string(rejected) + " rejected";
  return out + "\n";
}

std::string ProgressBar::update(const json::value& progress) {
  const std::string phase = text(progress, "phase", "?");
  const std::int64_t elapsed = integer(progress, "elapsed_ms").value_or(0);
  rate_.observe(progress);
  std::string line = render(progress);
  if (drawn_ && phase == phase_ && elapsed - last_drawn_ms_ < interval_ms_) {
    pending_ = std::move(line);
    return {};
  }
  phase_ = phase;
  last_drawn_ms_ = elapsed;
  drawn_ = true;
  pending_.clear();
  return line;
}

std::string ProgressBar::finish() {
  if (!drawn_) return {};
  drawn_ = false;
  return std::exchange(pending_, {}) + "\n";
}

std::string ProgressBar::render(const json::value& progress) const {
  // Room kept for the rate and the ETA ("  12,345/s  ETA 59s"), so the bar
  // keeps its width while they change.
  constexpr std::size_t kTailRoom = 20;
  constexpr std::size_t kMinBar = 5;
  constexpr std::size_t kMaxBar = 40;
  // Never into the last column: a wrapped line cannot be redrawn with "\r".
  const std::size_t max_width = columns_ > 1 ? columns_ - 1 : 1;

  const std::string phase = text(progress, "phase", "?");
  std::string line = "run " + count_text(progress, "run_id") + ": " + phase;
  std::string rejected_text;
  if (const std::int64_t rejected = integer(progress, "rejected").value_or(0); rejected > 0)
    rejected_text = ", " + with_thousands(rejected) + " rejected";
  std::vector<std::string> extras;  // each shown only if it fits, in this order
  if (phase == "pushing") {
    const std::int64_t total = std::max<std::int64_t>(integer(progress, "total").value_or(0), 0);
    const std::int64_t pushed =
        std::clamp<std::int64_t>(integer(progress, "pushed").value_or(0), 0, total);
    const std::int64_t percent = total > 0 ? pushed * 100 / total : 100;
    const std::string total_text = with_thousands(total);
    // Counts padded to the total's width, so nothing after them shifts.
    const std::string counts = " " + padded_left(std::to_string(percent) + "%", 4) + "  " +
                               padded_left(with_thousands(pushed), total_text.size()) + "/" +
                               total_text;
    // Rejections matter more than the bar's length: room is kept for them.
    const std::size_t fixed =
        width(line) + 3 + width(counts) + kTailRoom + width(rejected_text);  // " [", "]"
    const std::size_t room = max_width > fixed ? max_width - fixed : 0;
    if (room >= kMinBar) {
      const std::size_t bar = std::min(room, kMaxBar);
      const std::size_t filled =
          total > 0 ? static_cast<std::size_t>(pushed * static_cast<std::int64_t>(bar) / total)
                    : bar;
      line += " [" + std::string(filled, '#') + std::string(bar - filled, '-') + "]";
    }
    line += counts;
    if (const std::optional<std::int64_t> rate = rate_.per_second(progress))
      extras.push_back("  " + with_thousands(*rate) + "/s");
    if (const std::optional<std::int64_t> eta = rate_.eta_s(progress); eta && pushed < total)
      extras.push_back("  ETA " + format_uptime(*eta));
  }
  if (!rejected_text.empty()) extras.push_back(rejected_text);
  for (const std::string& extra : extras)
    if (width(line) + width(extra) <= max_width) line += extra;
  if (width(line) > max_width) line = shortened(line, max_width);
  return "\r" + line + "\x1b[K";
}

}  // namespace pb::cli
