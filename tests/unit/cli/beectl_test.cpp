// beectl end to end against a real control Server with a scripted handler:
// what a user or a systemd unit sees, exit status included.
#include <doctest/doctest.h>

#include <mutex>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "../control/server_fixture.hpp"
#include "cli/beectl_main.hpp"

using namespace pb::control;
using boost::asio::awaitable;
namespace json = boost::json;

namespace {

struct Run {
  int code;
  std::string out;
  std::string err;
};

class FakeBeed {
 public:
  FakeBeed()
      : fixture_([this](const Request& r, const PeerCredentials&, EventSink& events) {
          return handle(r, events);
        }) {
    fixture_.start();
  }

  Run beectl(std::vector<std::string> args, pb::cli::Terminal terminal = {}) {
    args.insert(args.begin(), {"--socket", fixture_.socket_path().string()});
    std::ostringstream out, err;
    const int code = pb::cli::run_beectl(args, nullptr, out, err, terminal);
    return {code, out.str(), err.str()};
  }

  std::string last_request() {
    std::lock_guard lock(mutex_);
    return last_request_;
  }
  void set_run_result(std::string result) {
    std::lock_guard lock(mutex_);
    run_result_ = std::move(result);
  }
  void set_config_error(std::string error) {
    std::lock_guard lock(mutex_);
    config_error_ = std::move(error);
  }

 private:
  awaitable<Reply> handle(const Request& r, EventSink& events) {
    std::string result;
    std::string config_error;
    {
      std::lock_guard lock(mutex_);
      last_request_ = json::serialize(to_json(r));
      result = run_result_;
      config_error = config_error_;
    }
    const json::value* connection = r.args.if_contains("connection");
    if (connection != nullptr && *connection == "nope")
      co_return Reply::failure(Status::unknown_connection, "no connection named 'nope'");
    if (connection != nullptr && *connection == "locked")
      co_return Reply::failure(Status::permission_denied, "full-sync needs write access");
    if (r.command == "status")
      co_return Reply::success(json::parse(
          R"({"version":"0.1.0","uptime_s":12,"connections":[{"name":"acme","state":"idle",)"
          R"("last_sync":null,"next_sync_at":null}]})"));
    if (r.command == "inventory" && r.args.contains("stream")) {
      // Two pages as events, the last one in the reply.
      for (const char* page :
           {R"({"items":[{"sku":"A","quantity":1}]})", R"({"items":[{"sku":"B","quantity":2}]})"}) {
        Event event{"items", json::parse(page)};
        if (!co_await events.send(std::move(event)))
          co_return Reply::failure(Status::internal, "gone");
      }
      co_return Reply::success(json::parse(
          R"({"connection":"acme","items":[{"sku":"C","quantity":3}],"truncated":false})"));
    }
    if (r.command == "inventory")
      co_return Reply::success(
          json::parse(R"({"connection":"acme","items":[],"truncated":false})"));
    if (r.command == "history")
      co_return Reply::success(json::parse(
          R"({"connection":"acme","runs":[{"id":12,"connection":"acme","kind":"full",)"
          R"("trigger":"schedule","started_at":"2026-11-26T17:41:12Z",)"
          R"("finished_at":"2026-11-26T17:41:12Z","result":"ok","read":1000,"changed":3,)"
          R"("pushed":3,"rejected":0,"bad_rows":0,"duration_ms":85,"error":""}]})"));
    if (r.command == "diff")
      co_return Reply::success(json::parse(
          R"({"connection":"acme","feed":"/srv/feeds/acme/inv_3.csv","read":1000,"bad_rows":0,)"
          R"("total":1,"truncated":false,"changes":[{"sku":"A","quantity":5,)"
          R"("previous_quantity":7,"wanted":5,"store_quantity":7,"reason":"changed"}]})"));
    if (r.command == "pause")
      co_return Reply::success(
          json::parse(R"({"connection":"acme","paused":true,"next_sync_at":null})"));
    if (r.command == "resume")
      co_return Reply::success(json::parse(
          R"({"connection":"acme","paused":false,"next_sync_at":"2026-11-26T18:41:12Z"})"));
    if (r.command == "reload") {
      if (!config_error.empty()) co_return Reply::failure(Status::refused, config_error);
      co_return Reply::success(
          json::parse(R"({"added":["b"],"removed":[],"changed":["a"],"unchanged":1,)"
                      R"("restart_required":["daemon.socket"]})"));
    }
    if (r.command != "full-sync")
      co_return Reply::failure(Status::unknown_command, "unknown command");
    if (!r.args.contains("wait"))
      co_return Reply::success(
          json::parse(R"({"connection":"acme","run_id":12,"kind":"full","queued":false})"));
    for (
        const char* progress :
        {R"({"run_id":12,"phase":"queued","total":0,"pushed":0,"rejected":0,"elapsed_ms":0})",
         R"({"run_id":12,"phase":"pushing","total":10,"pushed":0,"rejected":0,"elapsed_ms":100})",
         R"({"run_id":12,"phase":"pushing","total":10,"pushed":10,"rejected":0,"elapsed_ms":1100})"}) {
      Event event{"progress", json::parse(progress)};
      if (!co_await events.send(std::move(event)))
        co_return Reply::failure(Status::internal, "gone");
    }
    json::value run = json::parse(
        R"({"id":12,"connection":"acme","kind":"full","trigger":"manual","started_at":"x",)"
        R"("finished_at":"y","result":"","read":10,"changed":10,"pushed":10,"rejected":0,)"
        R"("bad_rows":0,"duration_ms":1100,"error":""})");
    run.as_object()["result"] = result;
    co_return Reply::success(std::move(run));
  }

  std::mutex mutex_;
  std::string last_request_;
  std::string run_result_ = "ok";
  std::string config_error_;
  pb::test::ServerFixture fixture_;
};

}  // namespace

TEST_CASE("beectl sends the request the table describes") {
  FakeBeed beed;
  CHECK(beed.beectl({"inventory", "acme", "--sku", "A*", "--changed", "--limit", "5"}).code == 0);
  CHECK(
      beed.last_request() ==
      R"({"v":1,"command":"inventory","args":{"connection":"acme","sku":"A*","changed":true,"limit":5}})");
}

TEST_CASE("beectl asks for a stream above one page and prints every page") {
  FakeBeed beed;
  const Run r = beed.beectl({"inventory", "acme", "--limit", "0"});
  CHECK(r.code == 0);
  CHECK(beed.last_request() ==
        R"({"v":1,"command":"inventory","args":{"connection":"acme","limit":0,"stream":true}})");
  CHECK(r.out ==
        "SKU  QTY  LAST-UPDATE  STORE-QTY  CONFIRMED-AT  PENDING  ERROR\n"
        "A      1  -                    -  -             no       -\n"
        "B      2  -                    -  -             no       -\n"
        "C      3  -                    -  -             no       -\n");
  const Run j = beed.beectl({"--json", "inventory", "acme", "--limit", "5000"});
  CHECK(j.code == 0);
  const json::value data = json::parse(j.out);
  CHECK(data.at("items").as_array().size() == 3);
  CHECK(data.at("connection") == "acme");
  CHECK(beed.beectl({"inventory", "acme", "--limit", "1000"}).code == 0);
  CHECK(beed.last_request() ==
        R"({"v":1,"command":"inventory","args":{"connection":"acme","limit":1000}})");
  CHECK(beed.beectl({"inventory", "acme", "--stream"}).code == 2);
}

TEST_CASE("beectl status prints a table and exits 0") {
  FakeBeed beed;
  const Run r = beed.beectl({"status"});
  CHECK(r.code == 0);
  CHECK(r.err == "");
  CHECK(r.out ==
        "beed 0.1.0, up 12s\n"
        "CONNECTION  STATE  LAST-SYNC  RESULT  PUSHED  REJECTED  NEXT-SYNC\n"
        "acme        idle   -          -            -         -  -\n");
}

TEST_CASE("beectl --json prints the reply's data") {
  FakeBeed beed;
  const Run r = beed.beectl({"--json", "inventory", "acme"});
  CHECK(r.code == 0);
  CHECK(r.out == "{\n  \"connection\": \"acme\",\n  \"items\": [],\n  \"truncated\": false\n}\n");
}

TEST_CASE("beectl full-sync without --wait reports the run it started") {
  FakeBeed beed;
  const Run r = beed.beectl({"full-sync", "acme"});
  CHECK(r.code == 0);
  CHECK(r.out == "full sync of acme started as run 12\n");
}

TEST_CASE("beectl --wait prints progress, a summary, and exits with the run's result") {
  FakeBeed beed;
  const std::string progress =
      "run 12: queued\n"
      "run 12: pushing 0/10\n"
      "run 12: pushing 10/10 (10/s)\n";
  const Run ok = beed.beectl({"full-sync", "acme", "--wait"});
  CHECK(ok.code == 0);
  CHECK(ok.out == progress +
                      "run 12 (full sync of acme) finished ok in 1.1 s: read 10, changed 10, "
                      "pushed 10, rejected 0, bad rows 0\n");
  beed.set_run_result("partial");
  CHECK(beed.beectl({"full-sync", "acme", "--wait"}).code == 3);
  beed.set_run_result("failed");
  const Run failed = beed.beectl({"full-sync", "acme", "--wait"});
  CHECK(failed.code == 4);
  CHECK(failed.err == "");
  beed.set_run_result("failed");
  const Run json = beed.beectl({"full-sync", "acme", "--wait", "--json"});
  CHECK(json.code == 4);
  CHECK(json.out.rfind("{\n  \"id\": 12,\n", 0) == 0);  // no progress lines mixed in
}

TEST_CASE("an error reply exits 1 with beed's message, permission_denied exits 6") {
  FakeBeed beed;
  const Run r = beed.beectl({"sync", "nope"});
  CHECK(r.code == 1);
  CHECK(r.out == "");
  CHECK(r.err == "beectl: no connection named 'nope'\n");
  const Run j = beed.beectl({"sync", "nope", "--json"});
  CHECK(j.code == 1);
  CHECK(j.out ==
        "{\n  \"status\": \"unknown_connection\",\n  \"code\": 3,\n"
        "  \"error\": \"no connection named 'nope'\"\n}\n");
  const Run denied = beed.beectl({"full-sync", "locked"});
  CHECK(denied.code == 6);
  CHECK(denied.err == "beectl: full-sync needs write access\n");
}

TEST_CASE("beectl exits 5 when beed is not running") {
  pb::test::TempDir dir;
  const std::string path = (dir.path() / "beed.sock").string();
  std::ostringstream out, err;
  const std::vector<std::string> args{"status"};
  CHECK(pb::cli::run_beectl(args, path.c_str(), out, err) == 5);
  CHECK(err.str() == "beectl: cannot connect to beed at " + path +
                         ": No such file or directory \u2014 is beed running?\n");
}

TEST_CASE("beectl --wait on a terminal redraws one progress line, then the summary") {
  FakeBeed beed;
  const Run r = beed.beectl({"full-sync", "acme", "--wait"}, {.is_tty = true, .columns = 80});
  CHECK(r.code == 0);
  CHECK(r.err == "");
  CHECK(r.out ==
        "\rrun 12: queued\x1b[K"
        "\rrun 12: pushing [-----------------------------]   0%   0/10\x1b[K"
        "\rrun 12: pushing [#############################] 100%  10/10  10/s\x1b[K"
        "\n"
        "run 12 (full sync of acme) finished ok in 1.1 s: read 10, changed 10, pushed 10, "
        "rejected 0, bad rows 0\n");
  // --json stays clean on a terminal too.
  const Run json = beed.beectl({"full-sync", "acme", "--wait", "--json"}, {.is_tty = true});
  CHECK(json.out.rfind("{\n  \"id\": 12,\n", 0) == 0);
  // Without --wait there is no progress line to end.
  CHECK(beed.beectl({"full-sync", "acme"}, {.is_tty = true}).out ==
        "full sync of acme started as run 12\n");
}

TEST_CASE("beectl history, diff, pause, resume and reload print their replies") {
  FakeBeed beed;
  const Run history = beed.beectl({"history", "acme", "--limit", "1"});
  CHECK(history.code == 0);
  CHECK(beed.last_request() ==
        R"({"v":1,"command":"history","args":{"connection":"acme","limit":1}})");
  CHECK(history.out ==
        "RUN  STARTED               KIND  TRIGGER   RESULT  PUSHED  REJECTED  DURATION\n"
        " 12  2026-11-26T17:41:12Z  full  schedule  ok           3         0     85 ms\n");

  const Run diff = beed.beectl({"diff", "acme"});
  CHECK(diff.code == 0);
  CHECK(beed.last_request() == R"({"v":1,"command":"diff","args":{"connection":"acme"}})");
  CHECK(diff.out ==
        "SKU  WAREHOUSE  PUSH  STORE  REASON\n"
        "A    7\u21925           5      7  changed\n"
        "1 SKU would be pushed (feed inv_3.csv, 1000 rows)\n");

  const Run pause = beed.beectl({"pause", "acme"});
  CHECK(pause.code == 0);
  CHECK(beed.last_request() == R"({"v":1,"command":"pause","args":{"connection":"acme"}})");
  CHECK(pause.out == "acme: automatic syncs paused\n");
  const Run resume = beed.beectl({"resume", "acme"});
  CHECK(resume.code == 0);
  CHECK(resume.out == "acme: automatic syncs resumed, next at 2026-11-26T18:41:12Z\n");
  CHECK(beed.beectl({"pause", "nope"}).code == 1);

  const Run reload = beed.beectl({"reload"});
  CHECK(reload.code == 0);
  CHECK(beed.last_request() == R"({"v":1,"command":"reload","args":{}})");
  CHECK(reload.out ==
        "added: b\n"
        "changed: a\n"
        "needs a restart to take effect: daemon.socket\n");
}

TEST_CASE("a reload beed refuses exits 1 with the loader's message on stderr") {
  FakeBeed beed;
  beed.set_config_error(
      "/etc/packagebee/beed.yaml:12:5: connections.acme.schedule: must be at least 60s");
  const Run r = beed.beectl({"reload"});
  CHECK(r.code == 1);
  CHECK(r.out == "");
  CHECK(r.err ==
        "beectl: /etc/packagebee/beed.yaml:12:5: connections.acme.schedule: must be at least "
        "60s\n");
  const Run json = beed.beectl({"reload", "--json"});
  CHECK(json.code == 1);
  CHECK(json.out ==
        "{\n  \"status\": \"refused\",\n  \"code\": 5,\n  \"error\": "
        "\"/etc/packagebee/beed.yaml:12:5: connections.acme.schedule: must be at least 60s\"\n}\n");
}
