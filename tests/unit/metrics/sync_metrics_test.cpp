// SyncMetrics: what runs, SKU counts and store exchanges do to the exported text.
#include <doctest/doctest.h>

#include <regex>
#include <set>
#include <string>

#include "metrics/sync_metrics.hpp"

using namespace pb;
using metrics::SyncMetrics;

namespace {

config::ConnectionConfig connection(const std::string& name) {
  config::ConnectionConfig c;
  c.name = name;
  c.inventory.schedule = std::chrono::seconds(900);
  return c;
}

state::RunRecord run(SyncKind kind, RunResult result, std::uint64_t pushed) {
  state::RunRecord r;
  r.id = 1;
  r.kind = kind;
  r.trigger = Trigger::manual;
  r.started_at = 1'700'000'000'000;
  r.finished_at = 1'700'000'002'500;
  r.result = result;
  r.pushed = pushed;
  r.rejected = 2;
  r.bad_rows = 3;
  return r;
}

bool has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("a connection's series exist at zero before its first run") {
  SyncMetrics m("1.2.3");
  m.add_connection(connection("shop"));
  const auto text = m.serialize();
  CHECK(has(text, "packagebee_build_info{version=\"1.2.3\"} 1"));
  CHECK(has(text, "packagebee_sync_schedule_seconds{connection=\"shop\"} 900"));
  CHECK(has(text, "packagebee_skus_rejected_total{connection=\"shop\"} 0"));
  CHECK(has(text, "packagebee_skus_pushed_total{connection=\"shop\",kind=\"smart\"} 0"));
  CHECK(has(text, "packagebee_skus{connection=\"shop\",state=\"pending\"} 0"));
  CHECK(has(text, "packagebee_connection_paused{connection=\"shop\"} 0"));
  // Families with a label set per run (kind, trigger, result) appear with the first run.
  CHECK(text.find("packagebee_sync_runs_total") == std::string::npos);
  CHECK(text.find("process_cpu_seconds_total ") != std::string::npos);
  CHECK(text.find("process_resident_memory_bytes ") != std::string::npos);
}

TEST_CASE("a finished run moves the run, push, reject and bad-row counters") {
  SyncMetrics m("1");
  m.add_connection(connection("shop"));
  m.run_finished("shop", run(SyncKind::full, RunResult::ok, 10));
  m.run_finished("shop", run(SyncKind::smart, RunResult::failed, 0));
  const auto text = m.serialize();
  CHECK(has(text,
            "packagebee_sync_runs_total{connection=\"shop\",kind=\"full\",result=\"ok\","
            "trigger=\"manual\"} 1"));
  CHECK(has(text,
            "packagebee_sync_runs_total{connection=\"shop\",kind=\"smart\",result=\"failed\","
            "trigger=\"manual\"} 1"));
  CHECK(has(text, "packagebee_skus_pushed_total{connection=\"shop\",kind=\"full\"} 10"));
  CHECK(has(text, "packagebee_skus_rejected_total{connection=\"shop\"} 4"));
  CHECK(has(text, "packagebee_feed_bad_rows_total{connection=\"shop\"} 6"));
  CHECK(has(text, "packagebee_sync_duration_seconds_count{connection=\"shop\",kind=\"full\"} 1"));
  CHECK(has(text, "packagebee_sync_duration_seconds_sum{connection=\"shop\",kind=\"full\"} 2.5"));
  CHECK(has(text,
            "packagebee_sync_duration_seconds_bucket{connection=\"shop\",kind=\"full\",le=\"5\"} "
            "1"));
  // The failed run is the last run; the ok one stays the last success.
  CHECK(has(text, "packagebee_sync_last_run_timestamp_seconds{connection=\"shop\"} 1700000002.5"));
  CHECK(has(text,
            "packagebee_sync_last_success_timestamp_seconds{connection=\"shop\"} 1700000002.5"));
}

TEST_CASE("SKU counts, pause state and the last runs read at start") {
  SyncMetrics m("1");
  m.add_connection(connection("shop"));
  m.set_skus("shop", {.pending = 5, .settled = 1000000, .rejected = 2});
  m.set_state("shop", true, false);
  m.set_last_runs("shop", 1'000'000, 500'000);
  const auto text = m.serialize();
  CHECK(has(text, "packagebee_skus{connection=\"shop\",state=\"pending\"} 5"));
  CHECK(has(text, "packagebee_skus{connection=\"shop\",state=\"settled\"} 1000000"));
  CHECK(has(text, "packagebee_skus{connection=\"shop\",state=\"rejected\"} 2"));
  CHECK(has(text, "packagebee_connection_paused{connection=\"shop\"} 1"));
  CHECK(has(text, "packagebee_sync_running{connection=\"shop\"} 0"));
  CHECK(has(text, "packagebee_sync_last_run_timestamp_seconds{connection=\"shop\"} 1000"));
  CHECK(has(text, "packagebee_sync_last_success_timestamp_seconds{connection=\"shop\"} 500"));
}

TEST_CASE("store exchanges are counted by outcome, timed, and throttles counted apart") {
  SyncMetrics m("1");
  const auto observer = m.store_observer("shop", "shopify");
  using net::ExchangeOutcome;
  observer->exchanged(ExchangeOutcome::ok, std::chrono::milliseconds(20));
  observer->exchanged(ExchangeOutcome::ok, std::chrono::milliseconds(30));
  observer->exchanged(ExchangeOutcome::throttled, std::chrono::milliseconds(10));
  observer->exchanged(ExchangeOutcome::failed, std::chrono::seconds(60));
  const auto text = m.serialize();
  const auto requests = [](const char* outcome) {
    return std::string("packagebee_store_requests_total{connection=\"shop\",outcome=\"") + outcome +
           "\",store=\"shopify\"} ";
  };
  CHECK(has(text, requests("ok") + "2"));
  CHECK(has(text, requests("throttled") + "1"));
  CHECK(has(text, requests("failed") + "1"));
  CHECK(has(text, requests("server_error") + "0"));
  CHECK(has(text, "packagebee_store_throttled_total{connection=\"shop\"} 1"));
  CHECK(has(text,
            "packagebee_store_request_duration_seconds_count{connection=\"shop\",store="
            "\"shopify\"} 4"));
}

TEST_CASE("no label but the known few: a SKU never becomes a label") {
  SyncMetrics m("1");
  m.add_connection(connection("shop"));
  m.run_finished("shop", run(SyncKind::full, RunResult::partial, 1));
  m.store_observer("shop", "csv")->exchanged(net::ExchangeOutcome::ok, std::chrono::seconds(1));
  const auto text = m.serialize();
  const std::set<std::string> allowed{"connection", "kind",    "trigger", "result", "state",
                                      "store",      "outcome", "version", "le"};
  const std::regex label(R"(([a-z_]+)=")");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), label);
       it != std::sregex_iterator(); ++it)
    CHECK_MESSAGE(allowed.count((*it)[1].str()) == 1, (*it)[1].str());
  for (const auto name : metrics::kMetricNames)
    CHECK_MESSAGE(text.find("# TYPE " + std::string(name) + " ") != std::string::npos, name);
}

TEST_CASE("store_type names the store connector") {
  CHECK(metrics::store_type(config::StoreConfig{config::CsvStoreConfig{}}) == "csv");
  CHECK(metrics::store_type(config::StoreConfig{config::ShopifyStoreConfig{}}) == "shopify");
  CHECK(metrics::store_type(config::StoreConfig{config::WooCommerceStoreConfig{}}) ==
        "woocommerce");
  CHECK(metrics::store_type(config::StoreConfig{config::MedusaStoreConfig{}}) == "medusa");
}
