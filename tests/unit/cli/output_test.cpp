#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "cli/output.hpp"

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
