// The BigCommerce store connector: its pure parts (quota headers and pacing, problem+json,
// item pages, the adjustment body), then the store against MiniBc, a small in-test model of
// the Inventory API, to check what the connector asks for and what it makes of the answers.
// The documented rules themselves are enforced live by tests/emulators/bigcommerce through the
// real beed (tests/integration/test_store_bigcommerce.py).
#include "connectors/store/bigcommerce/bigcommerce_store.hpp"

#include "config/config_loader.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "connectors/store/bigcommerce/bigcommerce_catalogue.hpp"
#include "connectors/store/bigcommerce/bigcommerce_client.hpp"
#include "connectors/store/bigcommerce/bigcommerce_json.hpp"
#include "connectors/store/bigcommerce/bigcommerce_rate.hpp"
#include "request_target.hpp"
#include "state/inventory_db.hpp"
#include "state/lmdb_store_id_cache.hpp"
#include "test_support.hpp"

using namespace pb;
using namespace pb::connectors;
namespace bc = pb::connectors::bigcommerce;
namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

constexpr std::string_view kToken = "bc_unit_token_0123456789";
constexpr std::string_view kRoot = "/stores/abc123/v3";

bc::RateStatus left_and_reset(std::int64_t left, std::int64_t reset_ms) {
  bc::RateStatus s;
  s.requests_left = left;
  s.reset_in = milliseconds(reset_ms);
  return s;
}

net::Response with_headers(std::vector<net::Header> headers) {
  net::Response r;
  r.status = 200;
  r.headers = std::move(headers);
  return r;
}

// The Inventory API as far as the connector uses it: items by SKU, one location, a quota.
class MiniBc final : public net::HttpSession {
 public:
  std::map<std::string, std::int64_t> stock;  // SKU -> quantity at location 1
  std::set<std::string> invalid;              // SKUs whose adjustment is refused (422)
  std::vector<net::Request> requests;
  std::vector<std::chrono::steady_clock::time_point> sent_at;
  std::size_t adjustments = 0;
  std::string token = std::string(kToken);
  int rate_limited_next = 0;     // 429s with Time-Reset-Ms to answer first
  int requests_left_after = -1;  // >= 0: Requests-Left to report on answers
  std::int64_t reset_ms = 40;
  std::size_t fail_page = 0;  // > 0: the walk's GET of this page answers 500, every time
  std::function<void(std::size_t page)> on_page;  // called at each walk page asked for

  asio::awaitable<net::Response> send(net::Request request) override {
    requests.push_back(request);
    sent_at.push_back(std::chrono::steady_clock::now());
    co_return answer(request);
  }

  // The page numbers of the whole-catalogue GETs (not the sku:in lookups), in order.
  std::vector<std::size_t> walk_pages() const {
    std::vector<std::size_t> out;
    for (const auto& r : requests) {
      const auto target = pb::test::split_target(r.target);
      if (r.method == "GET" && !target.query.contains("sku:in"))
        out.push_back(std::stoul(target.query.at("page")));
    }
    return out;
  }
  std::string origin() const override { return "https://api.bigcommerce.test"; }

  std::vector<std::string> item_pages() const {
    std::vector<std::string> out;
    for (const auto& r : requests)
      if (r.method == "GET") out.push_back(r.target);
    return out;
  }

 private:
  std::vector<net::Header> quota() const {
    std::vector<net::Header> h{{"X-Rate-Limit-Time-Reset-Ms", std::to_string(reset_ms)},
                               {"X-Rate-Limit-Requests-Quota", "150"}};
    if (requests_left_after >= 0)
      h.push_back({"X-Rate-Limit-Requests-Left", std::to_string(requests_left_after)});
    return h;
  }

  net::Response problem(unsigned status, const std::string& title) const {
    json::object body{{"status", status}, {"title", title}, {"type", "https://x"}};
    body["errors"] = json::object{};
    return {status, quota(), json::serialize(body)};
  }

  net::Response answer(const net::Request& request) {
    if (rate_limited_next > 0) {
      --rate_limited_next;
      auto h = quota();
      h.push_back({"X-Rate-Limit-Requests-Left", "0"});
      return {429, h, ""};
    }
    const auto* auth = [&]() -> const std::string* {
      for (const auto& h : request.headers)
        if (h.name == "X-Auth-Token") return &h.value;
      return nullptr;
    }();
    if (auth == nullptr || *auth != token) return problem(401, "Unauthorized");
    const auto target = pb::test::split_target(request.target);
    if (request.method == "GET" && target.path == std::string(kRoot) + "/inventory/items") {
      if (!target.query.contains("sku:in")) {
        const auto page = std::stoul(target.query.at("page"));
        if (on_page) on_page(page);
        if (page == fail_page) return problem(500, "Internal Server Error");
      }
      return items(target.query);
    }
    if (request.method == "PUT" &&
        target.path == std::string(kRoot) + "/inventory/adjustments/absolute")
      return adjust(json::parse(request.body).as_object());
    return problem(404, "no route");
  }

  net::Response items(const std::map<std::string, std::string>& query) const {
    const auto page = std::stoul(query.at("page"));
    const auto limit = std::stoul(query.at("limit"));
    REQUIRE(limit <= 1000);
    std::vector<std::string> skus;
    std::set<std::string> wanted;
    if (auto it = query.find("sku:in"); it != query.end()) {
      std::string rest = it->second;
      for (auto comma = rest.find(',');; comma = rest.find(',')) {
        wanted.insert(rest.substr(0, comma));
        if (comma == std::string::npos) break;
        rest = rest.substr(comma + 1);
      }
    }
    for (const auto& [sku, q] : stock)
      if (wanted.empty() || wanted.contains(sku)) skus.push_back(sku);
    json::array data;
    for (std::size_t i = (page - 1) * limit; i < std::min(skus.size(), page * limit); ++i)
      data.push_back(json::object{
          {"identity", json::object{{"sku", skus[i]}, {"variant_id", 100 + i}, {"product_id", i}}},
          {"locations", json::array{}}});
    const auto pages = (skus.size() + limit - 1) / limit;
    json::object body;
    body["meta"] = json::object{{"pagination", json::object{{"total", skus.size()},
                                                            {"count", data.size()},
                                                            {"current_page", page},
                                                            {"total_pages", pages}}}};
    body["data"] = std::move(data);
    return {200, quota(), json::serialize(body)};
  }

  net::Response adjust(const json::object& body) {
    const auto& list = body.at("items").as_array();
    REQUIRE(list.size() <= 2000);
    CHECK(body.at("reason").as_string().starts_with("PackageBee sync "));
    for (const auto& v : list) {
      const auto& item = v.as_object();
      const std::string sku(item.at("sku").as_string());
      CHECK(item.at("location_id").as_int64() == 1);
      if (!stock.contains(sku))
        return problem(422, "Items with identity: [sku " + sku + "] not found");
      if (invalid.contains(sku)) return problem(422, "[quantity is not valid]");
    }
    for (const auto& v : list)
      stock[std::string(v.at("sku").as_string())] = v.at("quantity").as_int64();
    ++adjustments;
    return {200, quota(), R"({"transaction_id":"t-1"})"};
  }
};

struct Fixture {
  pb::test::ScratchDir dir;
  state::InventoryDb db{dir / "state"};
  std::shared_ptr<MiniBc> api = std::make_shared<MiniBc>();
  config::BigCommerceStoreConfig config;

  Fixture() {
    pb::test::write_file(dir / "token", std::string(kToken) + "\n");
    config.store_hash = "abc123";
    config.access_token_file = dir / "token";
    config.endpoint = "https://api.bigcommerce.test";
  }

  std::unique_ptr<BigCommerceStore> store() {
    StoreDeps deps{asio::any_io_executor{}, state::lmdb_store_id_caches(db, "bc"), "bc"};
    net::RetryOptions retry;
    retry.initial_backoff = milliseconds(1);
    retry.max_backoff = milliseconds(2);
    return std::make_unique<BigCommerceStore>(config, deps, api, retry);
  }
};

asio::awaitable<std::vector<PushResult>> prepare_and_push(Store& store, std::vector<PushItem> batch,
                                                          asio::any_io_executor pool) {
  PushContext context{pool, "bc/42"};
  co_await store.prepare(context);
  co_return co_await store.push(std::move(batch), context);
}

using Progress = test::RecordingProgress;

// prepare() alone, with the run's progress and stop flag.
void run_prepare(Store& store, Progress* progress = nullptr,
                 std::shared_ptr<std::atomic<bool>> stop = nullptr) {
  pb::test::run_with_pool([&](asio::any_io_executor pool) -> asio::awaitable<void> {
    PushContext context{pool, "bc/42", progress, stop};
    co_await store.prepare(context);
  });
}

std::vector<PushResult> run_push(Store& store, std::vector<PushItem> batch) {
  return pb::test::run_with_pool(
      [&](asio::any_io_executor pool) { return prepare_and_push(store, std::move(batch), pool); });
}

std::string outcomes(const std::vector<PushResult>& results) {
  std::string out;
  for (const auto& r : results)
    out += r.outcome == PushOutcome::confirmed  ? 'c'
           : r.outcome == PushOutcome::rejected ? 'r'
                                                : 't';
  return out;
}

}  // namespace

// ---- pure parts ---------------------------------------------------------------------------------

TEST_CASE("bigcommerce: quota headers are read case-insensitively, junk reads as absent") {
  const auto s = bc::read_rate_status(with_headers({{"x-rate-limit-requests-left", "35"},
                                                    {"X-Rate-Limit-Requests-Quota", " 150 "},
                                                    {"X-RATE-LIMIT-TIME-RESET-MS", "15000"},
                                                    {"X-Rate-Limit-Time-Window-Ms", "30000"}}));
  CHECK(s.requests_left == 35);
  CHECK(s.requests_quota == 150);
  CHECK(s.reset_in == milliseconds(15000));
  CHECK(s.window == milliseconds(30000));
  const auto bad = bc::read_rate_status(
      with_headers({{"X-Rate-Limit-Requests-Left", "-1"}, {"X-Rate-Limit-Time-Reset-Ms", "15s"}}));
  CHECK_FALSE(bad.requests_left);
  CHECK_FALSE(bad.reset_in);
  CHECK_FALSE(bc::read_rate_status(with_headers({})).requests_left);
}

TEST_CASE("bigcommerce: the pacer waits for the reset only when no request is left") {
  using Clock = bc::RatePacer::Clock;
  const auto t0 = Clock::now();
  bc::RatePacer pacer;
  CHECK(pacer.delay_before(t0) == milliseconds(0));
  pacer.observe(left_and_reset(3, 9000), t0);
  CHECK(pacer.delay_before(t0) == milliseconds(0));
  pacer.observe(left_and_reset(0, 1500), t0);
  CHECK(pacer.delay_before(t0) == milliseconds(1500));
  CHECK(pacer.delay_before(t0 + milliseconds(1000)) == milliseconds(500));
  CHECK(pacer.delay_before(t0 + milliseconds(1500)) == milliseconds(0));
  pacer.observe({}, t0);  // an answer without quota headers changes nothing
  CHECK(pacer.delay_before(t0) == milliseconds(1500));
  pacer.observe(left_and_reset(149, 30000), t0);
  CHECK(pacer.delay_before(t0) == milliseconds(0));
}

TEST_CASE("bigcommerce: problem+json is read and described on one line") {
  const auto p = bc::parse_problem(
      R"({"status":422,"title":"Payload contains invalid fields","type":"https://x",)"
      R"("errors":{"setting.0":"At least one\nsetting","n":3}})");
  REQUIRE(p);
  CHECK(p->status == 422);
  CHECK(bc::describe_problem(*p) ==
        "Payload contains invalid fields (setting.0: At least one setting; n: 3)");
  CHECK(bc::describe_problem(*bc::parse_problem(R"({"title":"[bad]","errors":{}})")) == "[bad]");
  CHECK_FALSE(bc::parse_problem("<html>"));
  CHECK_FALSE(bc::parse_problem(R"({"status":422})"));
  bc::Problem long_one;
  long_one.title = std::string(400, 'x');
  CHECK(bc::describe_problem(long_one).size() == 303);
}

TEST_CASE("bigcommerce: an items page gives SKU -> variant or product id and the paging meta") {
  const auto page = bc::parse_items_page(json::parse(R"({"data":[
      {"identity":{"sku":"A","variant_id":79,"product_id":120}},
      {"identity":{"sku":"B","product_id":7}},
      {"identity":{"sku":"","variant_id":5}},
      {"identity":{"variant_id":6}},
      {"oops":1}],
    "meta":{"pagination":{"total":2005,"count":5,"current_page":2,"total_pages":3}}})"));
  REQUIRE(page);
  CHECK(page->items == bc::SkuIds{{"A", "v79"}, {"B", "p7"}});
  CHECK(page->count == 5);
  CHECK(page->current_page == 2);
  CHECK(page->total_pages == 3);
  CHECK_FALSE(bc::parse_items_page(json::parse(R"({"items":[]})")));
  CHECK(bc::parse_items_page(json::parse(R"({"data":[]})"))->total_pages == 0);
}

TEST_CASE("bigcommerce: the adjustment body names location, SKU and absolute quantity") {
  const std::vector<PushItem> items{{"A\"1", 7}, {"B", 0}};
  CHECK(bc::adjustment_body("PackageBee sync c/1", 3, items) ==
        R"({"reason":"PackageBee sync c/1","items":[{"location_id":3,"sku":"A\"1","quantity":7},)"
        R"({"location_id":3,"sku":"B","quantity":0}]})");
}

// ---- the store against MiniBc
// ---------------------------------------------------------------------

TEST_CASE("bigcommerce: the first push walks every page, then sends one adjustment") {
  Fixture f;
  for (int i = 0; i < 2500; ++i) f.api->stock["S" + std::to_string(10000 + i)] = 0;
  auto store = f.store();
  const auto results = run_push(*store, {{"S10000", 5}, {"S12499", 9}});
  CHECK(outcomes(results) == "cc");
  CHECK(f.api->stock["S10000"] == 5);
  CHECK(f.api->stock["S12499"] == 9);
  const auto pages = f.api->item_pages();
  REQUIRE(pages.size() == 3);  // 2,500 items at 1,000 a page
  CHECK(pages[2] == std::string(kRoot) + "/inventory/items?limit=1000&page=3");
  CHECK(f.api->adjustments == 1);
  CHECK(store->max_batch() == 2000);

  // A second store on the same LMDB walks nothing: the map is complete and fresh.
  f.api->requests.clear();
  auto again = f.store();
  CHECK(outcomes(run_push(*again, {{"S10001", 1}})) == "c");
  CHECK(f.api->item_pages().empty());
}

TEST_CASE("bigcommerce: an unknown SKU is looked up once, rejected unsent, and remembered") {
  Fixture f;
  f.api->stock = {{"A", 0}, {"B", 0}};
  auto store = f.store();
  run_push(*store, {{"A", 1}});
  f.api->requests.clear();
  f.api->stock["C"] = 0;  // added to the store after the walk
  const auto results = run_push(*store, {{"A", 2}, {"C", 3}, {"NOPE", 4}});
  CHECK(outcomes(results) == "ccr");
  CHECK(results[2].message.find("not in the BigCommerce store") != std::string::npos);
  REQUIRE(f.api->item_pages().size() == 1);
  const auto lookup = pb::test::split_target(f.api->item_pages()[0]);
  CHECK(lookup.query.at("sku:in") == "C,NOPE");
  CHECK(f.api->stock["C"] == 3);
  for (const auto& r : f.api->requests)
    CHECK(r.body.find("NOPE") == std::string::npos);  // never sent

  f.api->requests.clear();
  auto again = f.store();  // a restart: the mark lives in LMDB
  CHECK(outcomes(run_push(*again, {{"NOPE", 5}, {"C", 6}})) == "rc");
  CHECK(f.api->item_pages().empty());
}

TEST_CASE("bigcommerce: lookups of SKUs the map lacks are bounded per run") {
  Fixture f;
  f.api->stock = {{"A", 0}};
  auto store = f.store();
  std::vector<PushItem> batch{{"A", 1}};
  for (int i = 0; i < 600; ++i) batch.push_back({"X" + std::to_string(1000 + i), 1});
  const auto results = run_push(*store, batch);
  CHECK(results[0].outcome == PushOutcome::confirmed);
  for (std::size_t i = 1; i < results.size(); ++i)
    CHECK(results[i].outcome == PushOutcome::rejected);
  CHECK(results[500].message.find("looked up") == std::string::npos);
  CHECK(results[501].message.find("lookups are used up") != std::string::npos);
  // The walk (1 page) and 10 lookups of 50; nothing unknown was sent.
  CHECK(f.api->item_pages().size() == 1 + BigCommerceStore::kLookupsPerRun);
  CHECK(f.api->adjustments == 1);
}

TEST_CASE("bigcommerce: a 422 is split until the refused SKUs stand alone, the rest is applied") {
  Fixture f;
  std::vector<PushItem> batch;
  for (int i = 0; i < 64; ++i) {
    const auto sku = "S" + std::to_string(100 + i);
    f.api->stock[sku] = 0;
    batch.push_back({sku, i + 1});
  }
  f.api->invalid = {"S110", "S150"};
  auto store = f.store();
  const auto results = run_push(*store, batch);
  for (int i = 0; i < 64; ++i) {
    const bool bad = i == 10 || i == 50;
    CAPTURE(i);
    CHECK(results[static_cast<std::size_t>(i)].outcome ==
          (bad ? PushOutcome::rejected : PushOutcome::confirmed));
    if (!bad) CHECK(f.api->stock[batch[static_cast<std::size_t>(i)].sku] == i + 1);
  }
  CHECK(results[10].message == "BigCommerce refused it (HTTP 422): [quantity is not valid]");
  CHECK(f.api->stock["S110"] == 0);
  // k = 2 bad items among n = 64: at most 1 + 2·k·log2(n) calls, far fewer than 64.
  CHECK(store->isolation_stats().calls <= 25);
}

TEST_CASE("bigcommerce: a 429 is waited out for Time-Reset-Ms, and the quota is honoured") {
  Fixture f;
  f.api->stock = {{"A", 0}};
  f.api->rate_limited_next = 2;
  f.api->reset_ms = 30;
  auto store = f.store();
  const auto started = std::chrono::steady_clock::now();
  CHECK(outcomes(run_push(*store, {{"A", 4}})) == "c");
  CHECK(std::chrono::steady_clock::now() - started >= milliseconds(60));
  CHECK(store->stats().rate_limited == 2);
  CHECK(store->stats().rate_wait == milliseconds(60));

  // Requests-Left 0 on the lookup's answer: the adjustment waits for the reset first.
  f.api->requests_left_after = 0;
  f.api->reset_ms = 50;
  const auto before = f.api->requests.size();
  f.api->stock["Z"] = 0;  // not in the map: a lookup, then the adjustment
  CHECK(outcomes(run_push(*store, {{"A", 5}, {"Z", 1}})) == "cc");
  REQUIRE(f.api->requests.size() == before + 2);
  CHECK(f.api->requests[before].method == "GET");
  CHECK(f.api->sent_at[before + 1] - f.api->sent_at[before] >= milliseconds(50));
}

TEST_CASE("bigcommerce: endless 429s end the run (Retry::no) rather than waiting forever") {
  Fixture f;
  f.api->stock = {{"A", 0}};
  f.api->rate_limited_next = 1000;
  f.api->reset_ms = 1;
  auto store = f.store();
  try {
    run_push(*store, {{"A", 4}});
    FAIL("no StoreError");
  } catch (const StoreError& e) {
    CHECK_FALSE(e.retry_in_run());
    CHECK(std::string(e.what()).find("HTTP 429") != std::string::npos);
  }
  CHECK(f.api->requests.size() == static_cast<std::size_t>(bc::Client::kMaxRateLimited) + 1);
}

TEST_CASE("bigcommerce: a refused token fails the push naming access_token_file, not the token") {
  Fixture f;
  f.api->stock = {{"A", 0}};
  f.api->token = "another";
  auto store = f.store();
  try {
    run_push(*store, {{"A", 4}});
    FAIL("no StoreError");
  } catch (const StoreError& e) {
    CHECK_FALSE(e.retry_in_run());
    const std::string what = e.what();
    CHECK(what.find("access_token_file") != std::string::npos);
    CHECK(what.find("401") != std::string::npos);
    CHECK(what.find(kToken) == std::string::npos);
  }
  CHECK(f.api->requests.size() == 1);  // no retry storm
}

// ---- the resumable catalogue walk --------------------------------------------------------------

TEST_CASE("bigcommerce: a first walk that fails on page k goes on from page k in the next run") {
  Fixture f;
  for (int i = 0; i < 4500; ++i) f.api->stock["S" + std::to_string(10000 + i)] = i;
  f.api->fail_page = 3;
  auto store = f.store();
  CHECK_THROWS_WITH_AS(run_prepare(*store), doctest::Contains("catalogue walk failed"), StoreError);
  auto pages = f.api->walk_pages();
  REQUIRE(pages.size() >= 3);
  CHECK(std::vector<std::size_t>(pages.begin(), pages.begin() + 2) ==
        std::vector<std::size_t>{1, 2});
  for (std::size_t i = 2; i < pages.size(); ++i) CHECK(pages[i] == 3);  // retried, then given up

  // A restart: the next run reads pages 3 to 5 only, and knows every SKU.
  f.api->fail_page = 0;
  f.api->requests.clear();
  Progress progress;
  auto again = f.store();
  run_prepare(*again, &progress);
  CHECK(f.api->walk_pages() == std::vector<std::size_t>{3, 4, 5});
  CHECK(progress.seen.front().first == 2000);  // the pages of the first run count
  CHECK(progress.seen.back() == std::pair<std::uint64_t, std::uint64_t>{4500, 4500});
  f.api->requests.clear();
  CHECK(outcomes(run_push(*again, {{"S10000", 7}, {"S14499", 8}})) == "cc");
  CHECK(f.api->walk_pages().empty());
  CHECK(f.api->item_pages().empty());  // no lookups either: both were in the map
}

TEST_CASE("bigcommerce: a stop ends the walk between two pages, the next run goes on") {
  Fixture f;
  for (int i = 0; i < 3500; ++i) f.api->stock["S" + std::to_string(10000 + i)] = i;
  auto stop = std::make_shared<std::atomic<bool>>(false);
  f.api->on_page = [&](std::size_t page) {
    if (page == 2) stop->store(true);  // beectl pause, while page 2 is read
  };
  auto store = f.store();
  CHECK_THROWS_WITH_AS(run_prepare(*store, nullptr, stop),
                       doctest::Contains("stopped during the BigCommerce catalogue walk"),
                       StoreError);
  CHECK(f.api->walk_pages() == std::vector<std::size_t>{1, 2});
  stop->store(false);
  f.api->requests.clear();
  run_prepare(*store, nullptr, stop);
  CHECK(f.api->walk_pages() == std::vector<std::size_t>{3, 4});
}

TEST_CASE("bigcommerce: a stop ends the walk's wait for the request quota at once") {
  Fixture f;
  for (int i = 0; i < 3500; ++i) f.api->stock["S" + std::to_string(10000 + i)] = i;
  f.api->requests_left_after = 0;  // every answer: quota used up, the window resets in 10 s
  f.api->reset_ms = 10'000;
  auto stop = std::make_shared<std::atomic<bool>>(false);
  std::thread pause([&] {
    std::this_thread::sleep_for(milliseconds(150));
    stop->store(true);  // beectl pause, while the walk waits before page 2
  });
  auto store = f.store();
  const auto started = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH_AS(run_prepare(*store, nullptr, stop),
                       "stopped while waiting for BigCommerce's request quota", StoreError);
  pause.join();
  CHECK(std::chrono::steady_clock::now() - started < milliseconds(2000));
  CHECK(f.api->walk_pages() == std::vector<std::size_t>{1});
  stop->store(false);
  f.api->requests_left_after = -1;
  f.api->requests.clear();
  run_prepare(*store, nullptr, stop);
  CHECK(f.api->walk_pages() == std::vector<std::size_t>{2, 3, 4});  // page 1 was committed
}

TEST_CASE("bigcommerce: the walk shows items mapped and meta.pagination.total") {
  Fixture f;
  for (int i = 0; i < 2500; ++i) f.api->stock["S" + std::to_string(10000 + i)] = i;
  Progress progress;
  auto store = f.store();
  run_prepare(*store, &progress);
  using Seen = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
  CHECK(progress.seen == Seen{{0, 0}, {1000, 2500}, {2000, 2500}, {2500, 2500}});
  CHECK(progress.done == 1);
}

TEST_CASE("bigcommerce: a refresh walks into memory: the old map serves if it fails") {
  Fixture f;
  for (int i = 0; i < 2500; ++i) f.api->stock["S" + std::to_string(10000 + i)] = i;
  auto store = f.store();
  run_prepare(*store);
  f.config.catalogue_refresh = std::chrono::seconds(0);  // the map is now too old
  f.api->fail_page = 2;
  f.api->requests.clear();
  Progress progress;
  auto refreshing = f.store();
  run_prepare(*refreshing, &progress);  // a warning, not a failure
  CHECK(progress.done == 1);
  f.api->requests.clear();
  CHECK(outcomes(run_push(*refreshing, {{"S12499", 1}})) == "c");  // (its prepare fails again)
  // The old map still serves: no lookup by SKU.
  CHECK(f.api->item_pages().size() == f.api->walk_pages().size());
  f.api->fail_page = 0;
  f.api->requests.clear();
  auto again = f.store();
  run_prepare(*again);
  // Nothing was committed by the failed refresh: it begins again at page 1.
  CHECK(f.api->walk_pages() == std::vector<std::size_t>{1, 2, 3});
}

// ---- the configuration section ----------------------------------------------------------------

namespace {

// Lines 1-4; the store section's keys start on line 5.
std::string with_store(std::string_view store_lines) {
  return "connections:\n"
         "  shop:\n"
         "    warehouse: {type: csv, path: /srv/feeds/shop}\n"
         "    store:\n" +
         std::string(store_lines);
}

constexpr std::string_view kStore =
    "      type: bigcommerce\n"
    "      store_hash: abc123\n"
    "      access_token_file: secrets/bc-token\n";

config::Config parse(std::string_view yaml) {
  return config::parse_config(yaml, "test.yaml", "/etc/packagebee");
}

std::string what_of(std::string_view yaml) {
  try {
    parse(yaml);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  FAIL("expected a ConfigError for:\n" << yaml);
  return {};
}

}  // namespace

TEST_CASE("bigcommerce config: defaults, and every key read") {
  auto c = parse(with_store(kStore));
  auto s = std::get<config::BigCommerceStoreConfig>(c.connections.at(0).store);
  CHECK(s.store_hash == "abc123");
  CHECK(s.access_token_file == "/etc/packagebee/secrets/bc-token");
  CHECK(s.location_id == 1);
  CHECK(s.endpoint == "https://api.bigcommerce.com");
  CHECK(s.ca_file.empty());
  CHECK_FALSE(s.catalogue_refresh);

  c = parse(with_store(std::string(kStore) + "      location_id: 3\n"
                                             "      endpoint: http://127.0.0.1:8080/bc/\n"
                                             "      ca_file: ca.pem\n"
                                             "      catalogue_refresh: 6h\n"));
  s = std::get<config::BigCommerceStoreConfig>(c.connections.at(0).store);
  CHECK(s.location_id == 3);
  CHECK(s.endpoint == "http://127.0.0.1:8080/bc");
  CHECK(s.ca_file == "/etc/packagebee/ca.pem");
  CHECK(s.catalogue_refresh == std::chrono::seconds(6 * 3600));
}

TEST_CASE("bigcommerce config: bad values name file, line and key") {
  CHECK(what_of(with_store("      type: bigcommerce\n      store_hash: abc123\n")) ==
        "test.yaml:5:7: connections.shop.store.access_token_file: missing required key "
        "\"access_token_file\" (a file holding the API account's access token (scope "
        "store_inventory), read at each run)");
  CHECK(what_of(with_store("      type: bigcommerce\n      store_hash: https://x/stores/a\n"
                           "      access_token_file: t\n")) ==
        "test.yaml:6:19: connections.shop.store.store_hash: expected the store hash: lower-case "
        "letters and digits (as in /stores/HASH/v3), not a URL or a store name");
  CHECK(what_of(with_store(std::string(kStore) + "      endpoint: http://api.example.com\n"))
            .find("test.yaml:8:17: connections.shop.store.endpoint: must be https://") == 0);
  CHECK(what_of(with_store(std::string(kStore) + "      location_id: 0\n"))
            .find("test.yaml:8:20: connections.shop.store.location_id:") == 0);
  CHECK(what_of(with_store(std::string(kStore) + "      token: x\n"))
            .find("test.yaml:8:7: connections.shop.store.token: unknown key") == 0);
}
