#include "cli/output.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "cli/progress.hpp"
#include "cli/reply_fields.hpp"
#include "cli/table.hpp"
#include "cli/text.hpp"

namespace pb::cli {
namespace {

namespace json = boost::json;

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

std::string kind_text(const json::value& v) {
  const std::string kind = text(v, "kind", "");
  return kind.empty() ? "sync" : kind + " sync";
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
// "syncing (mapping 2500/100000)" while the store walks its catalogue, "syncing (reading)" before,
// ", paused" when automatic syncs are.
std::string state_cell(const json::value& connection) {
  std::string state = cell(connection, "state");
  const json::value* progress = field(connection, "progress");
  if (progress != nullptr && progress->is_object()) {
    const std::string phase = text(*progress, "phase", "?");
    if (phase == "pushing")
      state = "syncing " + count_text(*progress, "pushed") + "/" + count_text(*progress, "total");
    else if (phase == "mapping")
      state = "syncing (" + mapping_text(*progress) + ")";
    else
      state = "syncing (" + phase + ")";
  }
  if (flag(connection, "paused") && state != "paused") state += ", paused";
  return state;
}

std::string file_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

using Formatter = std::string (*)(const json::value& data, bool wait);

// A switch without a default: -Wswitch names a command left without a
// formatter, and kFormatters below refuses to compile if any entry is null.
constexpr Formatter formatter_for(control::CommandId id) {
  using control::CommandId;
  switch (id) {
    case CommandId::status:
      return [](const json::value& data, bool) { return format_status(data); };
    case CommandId::full_sync:
    case CommandId::sync:
      return [](const json::value& data, bool wait) {
        return wait ? format_run_summary(data) : format_sync_started(data);
      };
    case CommandId::inventory:
      return [](const json::value& data, bool) { return format_inventory(data); };
    case CommandId::connections:
      return [](const json::value& data, bool) { return format_connections(data); };
    case CommandId::history:
      return [](const json::value& data, bool) { return format_history(data); };
    case CommandId::diff:
      return [](const json::value& data, bool) { return format_diff(data); };
    case CommandId::pause:
    case CommandId::resume:
      return [](const json::value& data, bool) { return format_pause_state(data); };
    case CommandId::reload:
      return [](const json::value& data, bool) { return format_reload(data); };
    case CommandId::count_:
      break;
  }
  return nullptr;
}

constexpr auto kFormatters = [] {
  std::array<Formatter, control::kCommandCount> table{};
  for (std::size_t i = 0; i < table.size(); ++i)
    table[i] = formatter_for(static_cast<control::CommandId>(i));
  return table;
}();
static_assert(std::ranges::none_of(kFormatters, [](Formatter f) { return f == nullptr; }),
              "every command in the table needs a formatter");

}  // namespace

std::string format_reply(control::CommandId command, bool wait, const json::value& data) {
  return kFormatters.at(static_cast<std::size_t>(command))(data, wait);
}

std::string format_json(const json::value& v) {
  std::string out;
  pretty(v, out, 0);
  return out + "\n";
}

std::string format_json_at(const json::value& v, std::size_t indent) {
  std::string out;
  pretty(v, out, indent);
  return out;
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

std::span<const Column> inventory_columns() {
  static constexpr Column kColumns[] = {
      {"SKU", false},          {"QTY", true},      {"LAST-UPDATE", false}, {"STORE-QTY", true},
      {"CONFIRMED-AT", false}, {"PENDING", false}, {"ERROR", false}};
  return kColumns;
}

std::vector<std::vector<std::string>> inventory_rows(const json::array& items) {
  std::vector<std::vector<std::string>> rows;
  for (const json::value& item : items) {
    const json::value* pending = field(item, "pending");
    rows.push_back({cell(item, "sku"), cell(item, "quantity"), cell(item, "updated_at"),
                    cell(item, "store_quantity"), cell(item, "confirmed_at"),
                    pending != nullptr && pending->is_bool() && pending->get_bool() ? "yes" : "no",
                    cell(item, "error")});
  }
  return rows;
}

std::string inventory_footer(const json::value& data, std::uint64_t shown) {
  const json::value* truncated = field(data, "truncated");
  if (truncated != nullptr && truncated->is_bool() && truncated->get_bool())
    return "(only the first " + std::to_string(shown) +
           " items shown; raise --limit to see more)\n";
  return {};
}

std::string format_inventory(const json::value& data) {
  const json::array& items = array_at(data, "items");
  return render_table(inventory_columns(), inventory_rows(items)) +
         inventory_footer(data, items.size());
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

std::span<const Column> diff_columns() {
  static constexpr Column kColumns[] = {
      {"SKU", false}, {"WAREHOUSE", false}, {"PUSH", true}, {"STORE", true}, {"REASON", false}};
  return kColumns;
}

std::vector<std::vector<std::string>> diff_rows(const json::array& changes) {
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
  return rows;
}

namespace {

// " (feed inv_3.csv, 1000 rows)"
std::string diff_source(const json::value& data) {
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
  return source;
}

}  // namespace

std::string diff_footer(const json::value& data, std::uint64_t shown) {
  const auto total =
      static_cast<std::uint64_t>(integer(data, "total").value_or(static_cast<std::int64_t>(shown)));
  std::string out;
  if (flag(data, "truncated") || shown < total)
    out += "(only the first " + std::to_string(shown) +
           " shown; raise --limit, or use --limit 0, to see all)\n";
  return out + std::to_string(total) + (total == 1 ? " SKU" : " SKUs") + " would be pushed" +
         diff_source(data) + "\n";
}

std::string format_diff(const json::value& data) {
  const json::array& changes = array_at(data, "changes");
  const std::int64_t total =
      integer(data, "total").value_or(static_cast<std::int64_t>(changes.size()));
  if (total == 0 && changes.empty()) return "nothing to push" + diff_source(data) + "\n";
  return render_table(diff_columns(), diff_rows(changes)) + diff_footer(data, changes.size());
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
  const auto flag = [&](std::string_view name) {
    const json::value* value = field(data, name);
    return value != nullptr && value->is_bool() && value->get_bool();
  };
  // "queued" only for a run that waits behind another: this connection's run in flight, or
  // (waits_for_slot, from a beed that says so) other connections' runs holding every
  // max_concurrent_syncs slot.
  const std::string run = count_text(data, "run_id");
  const std::string what = kind_text(data) + " of " + text(data, "connection", "?");
  if (flag("queued")) return what + " queued as run " + run + "\n";
  if (flag("waits_for_slot"))
    return what + " queued as run " + run +
           " (waiting for a sync slot: max_concurrent_syncs runs are in flight)\n";
  return what + " started as run " + run + "\n";
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

}  // namespace pb::cli
