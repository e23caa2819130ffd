#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "cli/output.hpp"
#include "cli/paged_output.hpp"
#include "cli/progress.hpp"
#include "cli/text.hpp"

using namespace pb::cli;
namespace json = boost::json;

TEST_CASE("status is a table with one row per connection") {
  const json::value data = json::parse(R"({"version":"0.1.0","uptime_s":12,"connections":[
    {"name":"acme","state":"idle","last_sync":{"id":3,"kind":"full","trigger":"schedule",
     "started_at":"2026-11-26T17:41:12Z","finished_at":"2026-11-26T17:41:13Z","result":"ok",
     "pushed":10,"rejected":0},"next_sync_at":"2026-11-26T18:41:12Z"},
    {"name":"bee-shop","state":"syncing","last_sync":{"id":4,"kind":"smart","trigger":"manual",
     "started_at":"2026-11-26T17:50:00Z","finished_at":null,"result":"running","pushed":1200,
     "rejected":3},"next_sync_at":null},
    {"name":"new","state":"paused","last_sync":null,"next_sync_at":null}]})");
  CHECK(
      format_status(data) ==
      "beed 0.1.0, up 12s\n"
      "CONNECTION  STATE    LAST-SYNC             RESULT   PUSHED  REJECTED  NEXT-SYNC\n"
      "acme        idle     2026-11-26T17:41:12Z  ok           10         0  2026-11-26T18:41:12Z\n"
      "bee-shop    syncing  2026-11-26T17:50:00Z  running    1200         3  -\n"
      "new         paused   -                     -             -         -  -\n");
}

TEST_CASE("status with no connections is a bare header") {
  CHECK(format_status(json::parse(R"({"version":"0.1.0","uptime_s":7500,"connections":[]})")) ==
        "beed 0.1.0, up 2h 05m\n"
        "CONNECTION  STATE  LAST-SYNC  RESULT  PUSHED  REJECTED  NEXT-SYNC\n");
}

TEST_CASE("inventory is a table, with a note when truncated") {
  const json::value data = json::parse(R"({"connection":"acme","items":[
    {"sku":"A-1","quantity":5,"updated_at":"2026-11-26T17:41:12Z","store_quantity":5,
     "confirmed_at":"2026-11-26T17:41:13Z","pending":false,"error":""},
    {"sku":"B-22","quantity":120,"updated_at":"2026-11-26T17:45:00Z","store_quantity":null,
     "confirmed_at":null,"pending":true,"error":"SKU not found in store"}],"truncated":true})");
  CHECK(format_inventory(data) ==
        "SKU   QTY  LAST-UPDATE           STORE-QTY  CONFIRMED-AT          PENDING  ERROR\n"
        "A-1     5  2026-11-26T17:41:12Z          5  2026-11-26T17:41:13Z  no       -\n"
        "B-22  120  2026-11-26T17:45:00Z          -  -                     yes      SKU not found "
        "in store\n"
        "(only the first 2 items shown; raise --limit to see more)\n");
}

TEST_CASE("table cells never carry control characters, and UTF-8 aligns by character") {
  const json::value data = json::parse(R"({"connection":"acme","items":[
    {"sku":"\u00e9t\u00e9","quantity":-2,"updated_at":"x","store_quantity":0,"confirmed_at":null,
     "pending":false,"error":"bad\nline\u001b[31m"},
    {"sku":"LONGER","quantity":1,"updated_at":"x","store_quantity":1,"confirmed_at":null,
     "pending":false,"error":""}],"truncated":false})");
  CHECK(format_inventory(data) ==
        "SKU     QTY  LAST-UPDATE  STORE-QTY  CONFIRMED-AT  PENDING  ERROR\n"
        "\u00e9t\u00e9      -2  x                    0  -             no       bad?line?[31m\n"
        "LONGER    1  x                    1  -             no       -\n");
}

TEST_CASE("connections is a table") {
  const json::value data = json::parse(R"json({"connections":[
    {"name":"acme","warehouse":"csv /srv/x (inv_*.csv)","store":"csv /out/a.csv","schedule_s":3600,
     "automatic":"smart","state":"idle"},
    {"name":"b","warehouse":"http https://wms.example/api","store":"shopify acme.myshopify.com",
     "schedule_s":0,"automatic":"off","state":"paused"}]})json");
  CHECK(format_connections(data) ==
        "CONNECTION  STATE   SCHEDULE  AUTOMATIC  WAREHOUSE                     STORE\n"
        "acme        idle    1h        smart      csv /srv/x (inv_*.csv)        csv /out/a.csv\n"
        "b           paused  -         off        http https://wms.example/api  shopify "
        "acme.myshopify.com\n");
}

TEST_CASE("a started or queued sync is one line") {
  CHECK(format_sync_started(json::parse(
            R"({"connection":"acme-shop","run_id":12,"kind":"full","queued":false})")) ==
        "full sync of acme-shop started as run 12\n");
  CHECK(format_sync_started(json::parse(
            R"({"connection":"acme-shop","run_id":13,"kind":"smart","queued":true})")) ==
        "smart sync of acme-shop queued as run 13\n");
  // Launched at once, but other connections' runs hold every slot: it waits too.
  CHECK(format_sync_started(json::parse(
            R"({"connection":"acme-shop","run_id":14,"kind":"full","queued":false,
                "waits_for_slot":true})")) ==
        "full sync of acme-shop queued as run 14 (waiting for a sync slot: max_concurrent_syncs "
        "runs are in flight)\n");
}

TEST_CASE("a finished run is summarised on one line and sets the exit status") {
  const json::value ok =
      json::parse(R"({"id":12,"connection":"acme","kind":"full","trigger":"manual",
    "started_at":"2026-11-26T17:41:12Z","finished_at":"2026-11-26T17:41:12Z","result":"ok",
    "read":1000,"changed":3,"pushed":3,"rejected":0,"bad_rows":0,"duration_ms":85,"error":""})");
  CHECK(format_run_summary(ok) ==
        "run 12 (full sync of acme) finished ok in 85 ms: read 1000, changed 3, pushed 3, "
        "rejected 0, bad rows 0\n");
  CHECK(exit_code_for_run(ok) == ExitCode::ok);

  const json::value partial = json::parse(R"({"id":13,"connection":"acme","kind":"smart",
    "result":"partial","read":10,"changed":5,"pushed":3,"rejected":2,"bad_rows":1,
    "duration_ms":12345,"error":"2 SKUs rejected by the store"})");
  CHECK(format_run_summary(partial) ==
        "run 13 (smart sync of acme) finished partial in 12.3 s: read 10, changed 5, pushed 3, "
        "rejected 2, bad rows 1; error: 2 SKUs rejected by the store\n");
  CHECK(exit_code_for_run(partial) == ExitCode::run_partial);
  CHECK(exit_code_for_run(json::parse(R"({"result":"failed"})")) == ExitCode::run_failed);
  CHECK(exit_code_for_run(json::parse(R"({"result":"running"})")) == ExitCode::daemon_error);
  CHECK(exit_code_for_run(json::parse("null")) == ExitCode::daemon_error);
}

TEST_CASE("progress prints phase changes and at most a line a second, with the push rate") {
  ProgressPrinter p;
  const auto event = [&](const char* phase, int elapsed, int pushed, int rejected = 0) {
    json::object o{{"run_id", 12},     {"phase", phase},       {"total", 10000},
                   {"pushed", pushed}, {"rejected", rejected}, {"elapsed_ms", elapsed}};
    return p.line(o).value_or("(none)\n");
  };
  CHECK(event("queued", 0, 0) == "run 12: queued\n");
  CHECK(event("reading", 250, 0) == "run 12: reading\n");
  CHECK(event("reading", 500, 0) == "(none)\n");
  CHECK(event("detecting", 750, 0) == "run 12: detecting\n");
  CHECK(event("pushing", 1000, 0) == "run 12: pushing 0/10000\n");
  CHECK(event("pushing", 1250, 800) == "(none)\n");
  CHECK(event("pushing", 2250, 4000) == "run 12: pushing 4000/10000 (3,200/s)\n");
  CHECK(event("pushing", 3250, 7000, 5) == "run 12: pushing 7000/10000 (3,111/s), 5 rejected\n");
  CHECK(event("recording", 3400, 10000, 5) == "run 12: recording, 5 rejected\n");
}

TEST_CASE("--json output is pretty and keeps beed's key order") {
  CHECK(
      format_json(json::parse(R"({"z":1,"a":[1,{"c":null}],"d":{},"e":[],"s":"x\"y","f":1.5})")) ==
      "{\n"
      "  \"z\": 1,\n"
      "  \"a\": [\n"
      "    1,\n"
      "    {\n"
      "      \"c\": null\n"
      "    }\n"
      "  ],\n"
      "  \"d\": {},\n"
      "  \"e\": [],\n"
      "  \"s\": \"x\\\"y\",\n"
      "  \"f\": 1.5E0\n"
      "}\n");
  CHECK(format_json(json::parse("null")) == "null\n");
}

TEST_CASE("numbers and durations read well") {
  CHECK(with_thousands(0) == "0");
  CHECK(with_thousands(999) == "999");
  CHECK(with_thousands(1000) == "1,000");
  CHECK(with_thousands(1234567) == "1,234,567");
  CHECK(with_thousands(-1234) == "-1,234");
  CHECK(format_duration_ms(85) == "85 ms");
  CHECK(format_duration_ms(1000) == "1.0 s");
  CHECK(format_duration_ms(12345) == "12.3 s");
  CHECK(format_duration_ms(59999) == "1m 00s");
  CHECK(format_duration_ms(125000) == "2m 05s");
  CHECK(format_duration_ms(7500000) == "2h 05m");
  CHECK(format_interval_s(3600) == "1h");
  CHECK(format_interval_s(5400) == "1h30m");
  CHECK(format_interval_s(45) == "45s");
  CHECK(format_interval_s(90061) == "1d1h1m1s");
  CHECK(format_interval_s(0) == "-");
}

TEST_CASE("status shows a run in flight and paused connections in STATE") {
  const json::value data = json::parse(R"({"version":"0.1.0","uptime_s":12,"connections":[
    {"name":"acme","state":"syncing","paused":false,"last_sync":{"id":4,"kind":"smart",
     "trigger":"manual","started_at":"2026-11-26T17:50:00Z","finished_at":null,"result":"running",
     "pushed":4000,"rejected":0},"next_sync_at":null,
     "progress":{"run_id":4,"phase":"pushing","total":10000,"pushed":4000,"rejected":0,
                 "elapsed_ms":1200}},
    {"name":"b","state":"syncing","paused":false,"last_sync":null,"next_sync_at":null,
     "progress":{"run_id":5,"phase":"reading","total":0,"pushed":0,"rejected":0,"elapsed_ms":90}},
    {"name":"c","state":"paused","paused":true,"last_sync":null,"next_sync_at":null},
    {"name":"d","state":"syncing","paused":true,"last_sync":null,"next_sync_at":null,
     "progress":{"run_id":9,"phase":"pushing","total":20,"pushed":10,"rejected":0,"elapsed_ms":5}},
    {"name":"e","state":"idle","paused":false,"last_sync":null,
     "next_sync_at":"2026-11-26T18:41:12Z"}]})");
  CHECK(format_status(data) ==
        "beed 0.1.0, up 12s\n"
        "CONNECTION  STATE                  LAST-SYNC             RESULT   PUSHED  REJECTED  "
        "NEXT-SYNC\n"
        "acme        syncing 4000/10000     2026-11-26T17:50:00Z  running    4000         0  -\n"
        "b           syncing (reading)      -                     -             -         -  -\n"
        "c           paused                 -                     -             -         -  -\n"
        "d           syncing 10/20, paused  -                     -             -         -  -\n"
        "e           idle                   -                     -             -         -  "
        "2026-11-26T18:41:12Z\n");
}

TEST_CASE("a run mapping the store's catalogue shows its counts in status, lines and the bar") {
  const json::value data = json::parse(R"({"version":"0.1.0","uptime_s":12,"connections":[
    {"name":"acme","state":"syncing","paused":false,"last_sync":null,"next_sync_at":null,
     "progress":{"run_id":4,"phase":"mapping","total":100000,"pushed":0,"rejected":0,
                 "mapped":25000,"mapping_total":100000,"elapsed_ms":1200}},
    {"name":"b","state":"syncing","paused":false,"last_sync":null,"next_sync_at":null,
     "progress":{"run_id":5,"phase":"mapping","total":0,"pushed":0,"rejected":0,
                 "mapped":750,"mapping_total":0,"elapsed_ms":90}}]})");
  const auto text = format_status(data);
  CHECK(text.find("acme        syncing (mapping 25,000/100,000)") != std::string::npos);
  CHECK(text.find("b           syncing (mapping 750) ") != std::string::npos);

  ProgressPrinter p;
  const auto event = [&](int elapsed, int mapped) {
    json::object o{{"run_id", 4},        {"phase", "mapping"},   {"total", 0},
                   {"pushed", 0},        {"rejected", 0},        {"mapped", mapped},
                   {"mapping_total", 0}, {"elapsed_ms", elapsed}};
    return p.line(o).value_or("(none)\n");
  };
  CHECK(event(0, 0) == "run 4: mapping 0\n");
  CHECK(event(500, 250) == "(none)\n");
  CHECK(event(1500, 1250) == "run 4: mapping 1,250\n");

  ProgressBar bar(80);
  const json::object mapping{{"run_id", 4},
                             {"phase", "mapping"},
                             {"mapped", 2500},
                             {"mapping_total", 10000},
                             {"elapsed_ms", 0}};
  CHECK(bar.update(mapping) == "\rrun 4: mapping 2,500/10,000\x1b[K");
}

TEST_CASE("history is a table of runs, newest first, with the errors of failed runs") {
  const json::value data = json::parse(R"({"connection":"acme","runs":[
    {"id":14,"connection":"acme","kind":"smart","trigger":"manual",
     "started_at":"2026-11-26T18:02:00Z","finished_at":null,"result":"running","read":1000,
     "changed":300,"pushed":120,"rejected":0,"bad_rows":0,"duration_ms":0,"error":""},
    {"id":13,"connection":"acme","kind":"smart","trigger":"schedule",
     "started_at":"2026-11-26T17:50:00Z","finished_at":"2026-11-26T17:50:12Z","result":"partial",
     "read":10,"changed":5,"pushed":3,"rejected":2,"bad_rows":1,"duration_ms":12345,
     "error":"2 SKUs rejected by the store"},
    {"id":12,"connection":"acme","kind":"full","trigger":"schedule",
     "started_at":"2026-11-26T17:41:12Z","finished_at":"2026-11-26T17:41:12Z","result":"ok",
     "read":1000,"changed":3,"pushed":1000,"rejected":0,"bad_rows":0,"duration_ms":85,"error":""},
    {"id":9,"connection":"acme","kind":"full","trigger":"manual",
     "started_at":"2026-11-25T09:00:00Z","finished_at":"2026-11-25T09:02:05Z","result":"failed",
     "read":0,"changed":0,"pushed":0,"rejected":0,"bad_rows":0,"duration_ms":125000,
     "error":"store answered 503 Service Unavailable: <html><body>upstream overloaded\nretry later</body></html>"}]})");
  CHECK(format_history(data) ==
        "RUN  STARTED               KIND   TRIGGER   RESULT   PUSHED  REJECTED  DURATION  ERROR\n"
        " 14  2026-11-26T18:02:00Z  smart  manual    running     120         0         -  -\n"
        " 13  2026-11-26T17:50:00Z  smart  schedule  partial       3         2    12.3 s  2 SKUs "
        "rejected by the store\n"
        " 12  2026-11-26T17:41:12Z  full   schedule  ok         1000         0     85 ms  -\n"
        "  9  2026-11-25T09:00:00Z  full   manual    failed        0         0    2m 05s  store "
        "answered 503 Service Unavailable: <html><body>upstrea\u2026\n");
}

TEST_CASE("history without errors has no ERROR column, without runs it says so") {
  CHECK(format_history(json::parse(R"({"connection":"acme","runs":[
    {"id":3,"connection":"acme","kind":"full","trigger":"manual","started_at":"2026-11-26T17:41:12Z",
     "finished_at":"2026-11-26T17:41:12Z","result":"ok","read":10,"changed":3,"pushed":3,
     "rejected":0,"bad_rows":0,"duration_ms":1000,"error":""},
    {"id":2,"connection":"acme","kind":"smart","trigger":"schedule",
     "started_at":"2026-11-26T16:41:12Z","finished_at":"2026-11-26T16:41:12Z","result":"failed",
     "read":0,"changed":0,"pushed":0,"rejected":0,"bad_rows":0,"duration_ms":5,"error":""}]})")) ==
        "RUN  STARTED               KIND   TRIGGER   RESULT  PUSHED  REJECTED  DURATION\n"
        "  3  2026-11-26T17:41:12Z  full   manual    ok           3         0     1.0 s\n"
        "  2  2026-11-26T16:41:12Z  smart  schedule  failed       0         0      5 ms\n");
  CHECK(format_history(json::parse(R"({"connection":"acme","runs":[]})")) ==
        "no runs recorded for acme\n");
}

TEST_CASE("diff is a table of what would be pushed and a summary line") {
  const json::value data = json::parse(R"({"connection":"acme","feed":"/srv/feeds/acme/inv_3.csv",
    "read":1000,"bad_rows":0,"total":4,"truncated":false,"changes":[
    {"sku":"A-1","quantity":5,"previous_quantity":7,"wanted":5,"store_quantity":7,"reason":"changed"},
    {"sku":"B-22","quantity":12,"previous_quantity":null,"wanted":12,"store_quantity":null,
     "reason":"new"},
    {"sku":"C-3","quantity":-2,"previous_quantity":4,"wanted":0,"store_quantity":4,
     "reason":"zeroed"},
    {"sku":"D","quantity":9,"previous_quantity":9,"wanted":9,"store_quantity":8,
     "reason":"unconfirmed"}]})");
  CHECK(format_diff(data) ==
        "SKU   WAREHOUSE  PUSH  STORE  REASON\n"
        "A-1   7\u21925           5      7  changed\n"
        "B-22  -\u219212         12      -  new\n"
        "C-3   4\u2192-2          0      4  zeroed\n"
        "D     9             9      8  unconfirmed\n"
        "4 SKUs would be pushed (feed inv_3.csv, 1000 rows)\n");
}

TEST_CASE("diff says when nothing would be pushed, and when the list is cut short") {
  CHECK(format_diff(json::parse(R"({"connection":"acme","feed":"/srv/feeds/acme/inv_3.csv",
    "read":1000,"bad_rows":0,"total":0,"truncated":false,"changes":[]})")) ==
        "nothing to push (feed inv_3.csv, 1000 rows)\n");
  CHECK(format_diff(json::parse(R"({"connection":"acme","feed":"inv_4.csv","read":3000,
    "bad_rows":2,"total":2500,"truncated":true,"changes":[
    {"sku":"A","quantity":1,"previous_quantity":0,"wanted":1,"store_quantity":0,"reason":"changed"},
    {"sku":"B","quantity":1,"previous_quantity":null,"wanted":1,"store_quantity":1,
     "reason":"rejected"}]})")) ==
        "SKU  WAREHOUSE  PUSH  STORE  REASON\n"
        "A    0\u21921           1      0  changed\n"
        "B    -\u21921           1      1  rejected\n"
        "(only the first 2 shown; raise --limit, or use --limit 0, to see all)\n"
        "2500 SKUs would be pushed (feed inv_4.csv, 3000 rows, 2 bad rows)\n");
  CHECK(format_diff(json::parse(R"({"connection":"acme","feed":"/a/b.csv","read":1,"bad_rows":1,
    "total":1,"truncated":false,"changes":[{"sku":"A","quantity":3,"previous_quantity":2,
    "wanted":3,"store_quantity":2,"reason":"changed"}]})"))
            .ends_with("1 SKU would be pushed (feed b.csv, 1 row, 1 bad row)\n"));
}

TEST_CASE("pause and resume are one line") {
  CHECK(format_pause_state(
            json::parse(R"({"connection":"acme","paused":true,"next_sync_at":null})")) ==
        "acme: automatic syncs paused\n");
  CHECK(format_pause_state(json::parse(
            R"({"connection":"acme","paused":false,"next_sync_at":"2026-11-26T18:41:12Z"})")) ==
        "acme: automatic syncs resumed, next at 2026-11-26T18:41:12Z\n");
  // No schedule (automatic: off): nothing is due.
  CHECK(format_pause_state(
            json::parse(R"({"connection":"acme","paused":false,"next_sync_at":null})")) ==
        "acme: automatic syncs resumed\n");
}

TEST_CASE("reload prints a line per non-empty list") {
  CHECK(format_reload(json::parse(R"({"added":["b"],"removed":[],"changed":["a"],"unchanged":1,
    "restart_required":["daemon.socket"]})")) ==
        "added: b\n"
        "changed: a\n"
        "needs a restart to take effect: daemon.socket\n");
  CHECK(format_reload(json::parse(R"({"added":[],"removed":["old","older"],"changed":[],
    "unchanged":2,"restart_required":[]})")) == "removed: old, older\n");
  CHECK(format_reload(json::parse(
            R"({"added":[],"removed":[],"changed":[],"unchanged":3,"restart_required":[]})")) ==
        "configuration reloaded, nothing changed\n");
}

namespace {

// One run's events, as beed sends them with --wait: (phase, elapsed_ms, pushed, rejected).
struct Step {
  const char* phase;
  int elapsed_ms;
  int pushed;
  int rejected;
};
constexpr Step kRun[] = {
    {"queued", 0, 0, 0},           {"reading", 250, 0, 0},     {"reading", 300, 0, 0},
    {"detecting", 750, 0, 0},      {"pushing", 1000, 0, 0},    {"pushing", 1050, 200, 0},
    {"pushing", 2250, 4000, 0},    {"pushing", 3250, 7000, 5}, {"pushing", 3300, 7100, 5},
    {"recording", 3500, 10000, 5},
};

json::object progress_event(const Step& s) {
  return {{"run_id", 12},       {"phase", s.phase},       {"total", 10000},
          {"pushed", s.pushed}, {"rejected", s.rejected}, {"elapsed_ms", s.elapsed_ms}};
}

}  // namespace

TEST_CASE("on a terminal, progress is one line redrawn in place, at most ten times a second") {
  ProgressBar bar(80);
  std::vector<std::string> writes;
  for (const Step& s : kRun) writes.push_back(bar.update(progress_event(s)));
  writes.push_back(bar.finish());
  CHECK(writes == std::vector<std::string>{
                      "\rrun 12: queued\x1b[K",
                      "\rrun 12: reading\x1b[K",
                      "",  // 50 ms after the last redraw
                      "\rrun 12: detecting\x1b[K",
                      "\rrun 12: pushing [---------------------]   0%       0/10,000\x1b[K",
                      "",
                      "\rrun 12: pushing [########-------------]  40%   4,000/10,000  3,200/s  ETA "
                      "2s\x1b[K",
                      "\rrun 12: pushing [######---]  70%   7,000/10,000  3,111/s  ETA "
                      "1s, 5 rejected\x1b[K",
                      "",
                      "\rrun 12: recording, 5 rejected\x1b[K",
                      "\n",
                  });
}

TEST_CASE("the progress line's last state is drawn before its newline if it was throttled") {
  ProgressBar bar(80);
  CHECK(bar.finish() == "");  // nothing drawn, nothing to end
  CHECK(bar.update(progress_event({"pushing", 1000, 0, 0})) != "");
  CHECK(bar.update(progress_event({"pushing", 1050, 9000, 0})) == "");
  CHECK(bar.finish() ==
        "\rrun 12: pushing [##################---]  90%   9,000/10,000  180,000/s  ETA 1s\x1b[K\n");
}

TEST_CASE("the progress line fits a narrow terminal without wrapping") {
  ProgressBar narrow(40);
  CHECK(narrow.update(progress_event({"pushing", 1000, 0, 0})) ==
        "\rrun 12: pushing   0%       0/10,000\x1b[K");  // no room for a bar
  // What does not fit is left out rather than wrapped.
  CHECK(narrow.update(progress_event({"pushing", 2250, 4000, 3})) ==
        "\rrun 12: pushing  40%   4,000/10,000\x1b[K");
  ProgressBar tiny(10);
  CHECK(tiny.update(progress_event({"reading", 0, 0, 0})) == "\rrun 12: \u2026\x1b[K");
  ProgressBar wide(200);
  CHECK(wide.update(progress_event({"pushing", 1000, 5000, 0})) ==
        "\rrun 12: pushing [####################--------------------]  50%   5,000/10,000\x1b[K");
}

TEST_CASE("off a terminal, the same run prints plain lines") {
  ProgressPrinter printer;
  std::string out;
  for (const Step& s : kRun) out += printer.line(progress_event(s)).value_or("");
  CHECK(out ==
        "run 12: queued\n"
        "run 12: reading\n"
        "run 12: detecting\n"
        "run 12: pushing 0/10000\n"
        "run 12: pushing 4000/10000 (3,200/s)\n"
        "run 12: pushing 7000/10000 (3,111/s), 5 rejected\n"
        "run 12: recording, 5 rejected\n");
}

TEST_CASE("each command's reply goes to its formatter, full-sync and sync by --wait") {
  using pb::control::CommandId;
  const json::value started =
      json::parse(R"({"connection":"acme","run_id":12,"kind":"full","queued":false})");
  const json::value run = json::parse(
      R"({"id":12,"connection":"acme","kind":"full","result":"ok","duration_ms":85,"read":1,)"
      R"("changed":1,"pushed":1,"rejected":0,"bad_rows":0})");
  for (const CommandId id : {CommandId::full_sync, CommandId::sync}) {
    CHECK(format_reply(id, false, started) == format_sync_started(started));
    CHECK(format_reply(id, true, run) == format_run_summary(run));
  }
  const json::value status = json::parse(R"({"version":"0.1.0","uptime_s":7,"connections":[]})");
  CHECK(format_reply(CommandId::status, false, status) == format_status(status));
  const json::value items = json::parse(R"({"connection":"acme","items":[],"truncated":false})");
  CHECK(format_reply(CommandId::inventory, false, items) == format_inventory(items));
  const json::value list = json::parse(R"({"connections":[]})");
  CHECK(format_reply(CommandId::connections, false, list) == format_connections(list));
  const json::value runs = json::parse(R"({"connection":"acme","runs":[]})");
  CHECK(format_reply(CommandId::history, false, runs) == format_history(runs));
  const json::value diff = json::parse(R"({"connection":"acme","total":0,"changes":[]})");
  CHECK(format_reply(CommandId::diff, false, diff) == format_diff(diff));
  const json::value paused = json::parse(R"({"connection":"acme","paused":true})");
  CHECK(format_reply(CommandId::pause, false, paused) == format_pause_state(paused));
  CHECK(format_reply(CommandId::resume, false, paused) == format_pause_state(paused));
  const json::value reload = json::parse(R"({"added":["b"],"removed":[],"changed":[]})");
  CHECK(format_reply(CommandId::reload, false, reload) == format_reload(reload));
}

TEST_CASE("a streamed inventory prints page by page with the first page's column widths") {
  using pb::cli::PagedOutput;
  using pb::control::CommandId;
  using pb::control::Event;
  PagedOutput pages(CommandId::inventory, false);
  CHECK_FALSE(pages.page(Event{"progress", json::object{}}));
  CHECK_FALSE(pages.started());
  const auto item = [](const char* sku) {
    return json::object{{"sku", sku},          {"quantity", 1},       {"updated_at", "x"},
                        {"store_quantity", 1}, {"confirmed_at", "y"}, {"pending", false},
                        {"error", ""}};
  };
  const auto first = pages.page(Event{"items", json::object{{"items", json::array{item("A")}}}});
  REQUIRE(first);
  CHECK(*first ==
        "SKU  QTY  LAST-UPDATE  STORE-QTY  CONFIRMED-AT  PENDING  ERROR\n"
        "A      1  x                    1  y             no       -\n");
  CHECK(pages.started());
  CHECK(*pages.page(Event{"items", json::object{{"items", json::array{item("LONGER")}}}}) ==
        "LONGER    1  x                    1  y             no       -\n");
  CHECK(pages.finish(json::parse(R"({"connection":"acme","items":[],"truncated":true,)"
                                 R"("next_after":"LONGER"})")) ==
        "(only the first 2 items shown; raise --limit to see more)\n");
}

TEST_CASE("a streamed listing in --json is one JSON object, the list first") {
  using pb::cli::PagedOutput;
  using pb::control::CommandId;
  using pb::control::Event;
  PagedOutput pages(CommandId::diff, true);
  std::string out = *pages.page(Event{"changes", json::parse(R"({"changes":[{"sku":"A"}]})")});
  out += *pages.page(Event{"changes", json::parse(R"({"changes":[{"sku":"B"}]})")});
  out += pages.finish(
      json::parse(R"({"connection":"acme","total":3,"truncated":false,"changes":[{"sku":"C"}]})"));
  CHECK(out ==
        "{\n"
        "  \"changes\": [\n"
        "    {\n      \"sku\": \"A\"\n    },\n"
        "    {\n      \"sku\": \"B\"\n    },\n"
        "    {\n      \"sku\": \"C\"\n    }\n"
        "  ],\n"
        "  \"connection\": \"acme\",\n"
        "  \"total\": 3,\n"
        "  \"truncated\": false\n"
        "}\n");
  CHECK(json::parse(out).at("changes").as_array().size() == 3);
}
