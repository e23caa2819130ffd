#include "connectors/store/shopify/shopify_store.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "connectors/store/shopify/shopify_graphql.hpp"
#include "connectors/store/shopify/shopify_idempotency.hpp"
#include "connectors/store/shopify/shopify_pacer.hpp"
#include "fake_http_session.hpp"
#include "state/inventory_db.hpp"
#include "state/lmdb_store_id_cache.hpp"
#include "test_support.hpp"

using namespace pb;
using namespace pb::connectors;
using pb::state::LmdbStoreIdCache;
namespace json = boost::json;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using pb::test::FakeHttpSession;
using pb::test::ScratchDir;
using std::chrono::milliseconds;

namespace {

constexpr std::string_view kToken = "shpat_SECRET_TOKEN_0123456789";
constexpr std::string_view kFingerprint =
    "shopify https://acme.myshopify.com/admin/api/2026-10/graphql.json gid://shopify/Location/7";

std::string item(int n) {
  return "gid://shopify/InventoryItem/" + std::to_string(n);
}

struct Bucket {
  double available = 2000;
  double maximum = 2000;
  double rate = 100;
};

json::object cost(double requested, std::optional<double> actual, Bucket bucket) {
  json::object status{{"maximumAvailable", bucket.maximum},
                      {"currentlyAvailable", bucket.available},
                      {"restoreRate", bucket.rate}};
  json::object c{{"requestedQueryCost", requested}, {"throttleStatus", std::move(status)}};
  if (actual)
    c["actualQueryCost"] = *actual;
  else
    c["actualQueryCost"] = nullptr;
  return json::object{{"cost", std::move(c)}};
}

net::Response reply(json::value data, double requested = 10, Bucket bucket = {}) {
  json::object body{{"data", std::move(data)}, {"extensions", cost(requested, requested, bucket)}};
  return net::Response{200, {}, json::serialize(body)};
}

net::Response throttled(double requested, Bucket bucket) {
  json::object error{{"message", "Throttled"}, {"extensions", {{"code", "THROTTLED"}}}};
  json::object body{{"errors", json::array{std::move(error)}},
                    {"extensions", cost(requested, std::nullopt, bucket)}};
  return net::Response{200, {}, json::serialize(body)};
}

// An inventoryItems page (the paged walk's and the SKU search's answer).
json::value items_page(const std::vector<std::pair<std::string, std::string>>& nodes,
                       const std::string& next_cursor = "") {
  json::array list;
  for (const auto& [sku, id] : nodes) list.push_back(json::object{{"id", id}, {"sku", sku}});
  json::object page_info{{"hasNextPage", !next_cursor.empty()}};
  if (next_cursor.empty())
    page_info["endCursor"] = nullptr;
  else
    page_info["endCursor"] = next_cursor;
  return json::object{
      {"inventoryItems", {{"nodes", std::move(list)}, {"pageInfo", std::move(page_info)}}}};
}

json::value set_ok() {
  return json::parse(R"({"inventorySetQuantities":{"userErrors":[]}})");
}

json::value set_errors(const std::vector<std::tuple<std::string, int, std::string>>& errors) {
  json::array list;
  for (const auto& [code, index, message] : errors) {
    json::value field = nullptr;
    if (index >= 0) field = json::array{"input", "quantities", std::to_string(index), "quantity"};
    list.push_back(json::object{{"code", code}, {"field", field}, {"message", message}});
  }
  return json::object{{"inventorySetQuantities", {{"userErrors", std::move(list)}}}};
}

json::object body_of(const net::Request& request) {
  return json::parse(request.body).as_object();
}
json::object variables_of(const net::Request& request) {
  return body_of(request).at("variables").as_object();
}
std::string query_of(const net::Request& request) {
  return std::string(body_of(request).at("query").as_string());
}
bool is_mutation(const net::Request& r) {
  return query_of(r).find("inventorySetQuantities") != std::string::npos;
}
// The (inventoryItemId, quantity) pairs of a mutation request.
std::vector<std::pair<std::string, std::int64_t>> quantities_of(const net::Request& request) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  const auto variables = variables_of(request);
  for (const auto& q : variables.at("input").at("quantities").as_array())
    out.emplace_back(std::string(q.at("inventoryItemId").as_string()), q.at("quantity").as_int64());
  return out;
}
std::string key_of(const net::Request& request) {
  return std::string(variables_of(request).at("key").as_string());
}

// Answers the token check prepare() makes before a run without a catalogue
// walk, so that each test scripts only the calls it is about.
class CheckAnswering final : public net::HttpSession {
 public:
  explicit CheckAnswering(std::shared_ptr<FakeHttpSession> inner) : inner_(std::move(inner)) {}
  asio::awaitable<net::Response> send(net::Request request) override {
    if (request.body.find("PackageBeeCheck") != std::string::npos) {
      ++checks;
      if (status != 200) co_return net::Response{status, {}, R"({"errors":"refused"})"};
      co_return reply(json::parse(R"({"shop":{"id":"gid://shopify/Shop/1"}})"), 1);
    }
    co_return co_await inner_->send(std::move(request));
  }
  std::string origin() const override { return inner_->origin(); }

  std::size_t checks = 0;
  unsigned status = 200;

 private:
  std::shared_ptr<FakeHttpSession> inner_;
};

struct Fixture {
  ScratchDir dir;
  state::InventoryDb db{dir / "state"};
  std::shared_ptr<FakeHttpSession> session = std::make_shared<FakeHttpSession>();
  std::shared_ptr<CheckAnswering> checker = std::make_shared<CheckAnswering>(session);
  config::ShopifyStoreConfig config;

  Fixture() {
    pb::test::write_file(dir / "token", std::string(kToken) + "\n");
    config.shop = "acme.myshopify.com";
    config.location_id = "gid://shopify/Location/7";
    config.access_token_file = dir / "token";
  }

  std::unique_ptr<ShopifyStore> store() {
    StoreDeps deps{asio::any_io_executor{}, state::lmdb_store_id_caches(db, "shop"), "shop"};
    net::RetryOptions retry;
    retry.initial_backoff = milliseconds(1);
    retry.max_backoff = milliseconds(2);
    return std::make_unique<ShopifyStore>(config, deps, checker, retry);
  }

  // A store that reads bulk results through `results` (any URL).
  std::unique_ptr<ShopifyStore> store_with_results(std::shared_ptr<FakeHttpSession> results) {
    StoreDeps deps{asio::any_io_executor{}, state::lmdb_store_id_caches(db, "shop"), "shop"};
    net::RetryOptions retry;
    retry.initial_backoff = milliseconds(1);
    return std::make_unique<ShopifyStore>(config, deps, checker, retry,
                                          [results](const net::Url&) { return results; });
  }

  // A complete cached map, as a previous run's walk leaves it.
  void cache(std::vector<std::pair<std::string, std::string>> entries) {
    LmdbStoreIdCache(db, "shop", std::string(kFingerprint)).replace_all(std::move(entries), 1);
  }
  std::optional<std::string> cached(const std::string& sku) {
    return LmdbStoreIdCache(db, "shop", std::string(kFingerprint)).find({sku}).front();
  }
};

asio::awaitable<void> prepare_only(Store& store, asio::any_io_executor pool) {
  PushContext context{pool, "shop/42"};
  co_await store.prepare(context);
}

asio::awaitable<std::vector<PushResult>> prepare_and_push(
    Store& store, std::vector<std::vector<PushItem>> batches, std::string reference,
    asio::any_io_executor pool) {
  PushContext context{pool, reference};
  co_await store.prepare(context);
  std::vector<PushResult> all;
  for (auto& batch : batches) {
    auto results = co_await store.push(std::move(batch), context);
    all.insert(all.end(), results.begin(), results.end());
  }
  co_return all;
}

std::vector<PushResult> run_pushes(Store& store, std::vector<std::vector<PushItem>> batches,
                                   std::string reference = "shop/42") {
  return pb::test::run_with_pool([&](asio::any_io_executor pool) {
    return prepare_and_push(store, std::move(batches), std::move(reference), pool);
  });
}
std::vector<PushResult> run_push(Store& store, std::vector<PushItem> batch,
                                 std::string reference = "shop/42") {
  std::vector<std::vector<PushItem>> batches{std::move(batch)};
  return run_pushes(store, std::move(batches), std::move(reference));
}
void run_prepare(Store& store) {
  pb::test::run_with_pool([&](asio::any_io_executor pool) { return prepare_only(store, pool); });
}

// Runs `f` expecting a StoreError; returns it.
template <class F>
StoreError store_error(F f) {
  try {
    f();
  } catch (const StoreError& e) {
    return e;
  }
  FAIL("no StoreError thrown");
  return StoreError("unreachable");
}

}  // namespace

// ---- GraphQL texts and helpers ---------------------------------------------------------------

TEST_CASE("shopify: SKU search queries quote every SKU and escape quotes and backslashes") {
  CHECK(shopify::sku_search_query({"A-1", "b c"}) == R"(sku:"A-1" OR sku:"b c")");
  CHECK(shopify::sku_search_query({R"(x"y)", R"(p\q)"}) == R"(sku:"x\"y" OR sku:"p\\q")");
}

TEST_CASE("shopify: a SKU with a quote, a backslash, a space or a colon is one quoted value") {
  // Shopify search syntax: a value is a name or a quoted string; inside double quotes a
  // backslash escapes the quote and itself, and spaces and colons are plain text.
  CHECK(shopify::sku_search_query({"a:b", "c d", "e\"f", "g\\h", "i'j(k)"}) ==
        R"q(sku:"a:b" OR sku:"c d" OR sku:"e\"f" OR sku:"g\\h" OR sku:"i'j(k)")q");
  CHECK(shopify::sku_search_query({"\"", "\\"}) == R"q(sku:"\"" OR sku:"\\")q");
  CHECK(shopify::sku_search_query({}).empty());
}

TEST_CASE("shopify: SKU searches are split by number of terms and by length, in order") {
  std::vector<std::string> skus;
  for (int i = 0; i < 120; ++i) skus.push_back(fmt::format("S{:03}", i));
  auto groups = shopify::sku_search_batches(skus, 50, 4096);
  REQUIRE(groups.size() == 3);
  CHECK(groups[0].size() == 50);
  CHECK(groups[1].size() == 50);
  CHECK(groups[2].size() == 20);
  CHECK(groups[0].front() == "S000");
  CHECK(groups[2].back() == "S119");

  // sku:"xxxxxxxxxx" is 16 characters, " OR " 4: three terms make 56, a fourth would make 76.
  const std::vector<std::string> ten(7, std::string(10, 'x'));
  groups = shopify::sku_search_batches(ten, 50, 60);
  REQUIRE(groups.size() == 3);
  CHECK(groups[0].size() == 3);
  CHECK(groups[1].size() == 3);
  CHECK(groups[2].size() == 1);
  for (const auto& g : groups) CHECK(shopify::sku_search_query(g).size() <= 60);
  CHECK(shopify::sku_search_query(groups[0]).size() == 56);

  // Escapes count: a quote takes two characters in the query.
  groups = shopify::sku_search_batches({"\"\"\"\"", "ab", "cd"}, 50, 24);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].size() == 1);  // sku:"\"\"\"\"" is 14; with " OR sku:"ab" it would be 26
  CHECK(groups[1] == std::vector<std::string>{"ab", "cd"});

  // A SKU longer than the bound alone goes in a group of its own, never dropped.
  groups = shopify::sku_search_batches({"a", std::string(100, 'z'), "b"}, 50, 40);
  REQUIRE(groups.size() == 3);
  CHECK(groups[1].front().size() == 100);
  CHECK(shopify::sku_search_batches({}, 50, 40).empty());
}

TEST_CASE("shopify: the reference document is a packagebee GID naming connection and run") {
  CHECK(shopify::reference_document_uri("shop-eu/42") == "gid://packagebee/SyncRun/shop-eu-42");
  CHECK(shopify::reference_document_uri("a b/1") == "gid://packagebee/SyncRun/a%20b-1");
}

TEST_CASE("shopify: idempotency keys are UUIDs that follow the content, and only the content") {
  const std::vector<shopify::QuantityInput> q{{item(1), 5}, {item(2), 0}};
  const auto key = shopify::idempotency_key("gid://packagebee/SyncRun/s-1", "L", q);
  CHECK(key.size() == 36);
  CHECK(key[8] == '-');
  CHECK(key[14] == '8');  // version 8
  CHECK(key == shopify::idempotency_key("gid://packagebee/SyncRun/s-1", "L", q));
  CHECK(key != shopify::idempotency_key("gid://packagebee/SyncRun/s-2", "L", q));
  CHECK(key != shopify::idempotency_key("gid://packagebee/SyncRun/s-1", "M", q));
  CHECK(key != shopify::idempotency_key("gid://packagebee/SyncRun/s-1", "L", {{item(1), 5}}));
  CHECK(key != shopify::idempotency_key("gid://packagebee/SyncRun/s-1", "L",
                                        {{item(1), 5}, {item(2), 1}}));
  CHECK(key != shopify::idempotency_key("gid://packagebee/SyncRun/s-1", "L", q, 1));
  // Field boundaries count: moving a character from one field to the next changes the key.
  CHECK(shopify::idempotency_key("ab", "c", {}) != shopify::idempotency_key("a", "bc", {}));
}

TEST_CASE("shopify: the pacer waits exactly the deficit over the restore rate") {
  shopify::CostPacer pacer;
  const auto t0 = Clock::now();
  using shopify::CallKind;
  // Nothing known yet: no wait.
  CHECK(pacer.delay_before(CallKind::set_quantities, t0) == milliseconds(0));
  shopify::QueryCost c{10, 10, shopify::ThrottleStatus{1000, 4, 50}};
  pacer.observe(c, CallKind::set_quantities, t0);
  // Needs 10, holds 4, refills 50/s: 6 / 50 = 120 ms.
  CHECK(pacer.delay_before(CallKind::set_quantities, t0) == milliseconds(120));
  CHECK(pacer.delay_before(CallKind::set_quantities, t0 + milliseconds(100)) == milliseconds(20));
  CHECK(pacer.delay_before(CallKind::set_quantities, t0 + milliseconds(120)) == milliseconds(0));
  // Rounded up to the next millisecond, never more.
  CHECK(pacer.delay_before(CallKind::set_quantities,
                           t0 + milliseconds(99) + std::chrono::microseconds(500)) ==
        milliseconds(21));
  // Another kind needs what it last requested: unknown yet, no wait.
  CHECK(pacer.delay_before(CallKind::catalogue_page, t0) == milliseconds(0));
  pacer.observe(shopify::QueryCost{502, 102, shopify::ThrottleStatus{1000, 400, 50}},
                CallKind::sku_lookup, t0);
  CHECK(pacer.delay_before(CallKind::sku_lookup, t0) == milliseconds(2040));  // (502-400)/50
  CHECK(pacer.delay_before(CallKind::set_quantities, t0) == milliseconds(0));
  // The estimate never exceeds the bucket's size.
  CHECK(*pacer.available_at(t0 + std::chrono::hours(1)) == doctest::Approx(1000));
  // THROTTLED: (requested - currentlyAvailable) / restoreRate.
  CHECK(shopify::CostPacer::throttled_delay(shopify::QueryCost{
            502, std::nullopt, shopify::ThrottleStatus{1000, 2, 100}}) == milliseconds(5000));
}

// ---- the catalogue walk and its cache -------------------------------------------------------

TEST_CASE("shopify: the catalogue is walked once, page by page, and cached for later runs") {
  Fixture f;
  std::vector<std::string> cursors;
  auto page = [&](std::vector<std::pair<std::string, std::string>> nodes, std::string next) {
    f.session->then([&cursors, nodes, next](const net::Request& r) {
      const auto v = variables_of(r);
      cursors.push_back(v.at("cursor").is_null() ? "null"
                                                 : std::string(v.at("cursor").as_string()));
      return reply(items_page(nodes, next), 252);
    });
  };
  page({{"A", item(1)}, {"B", item(2)}}, "c1");
  page({{"C", item(3)}, {"B", item(4)}}, "c2");  // B on two variants
  page({{"D", item(5)}}, "");
  f.session->then([](const net::Request&) { return reply(set_ok()); });

  auto store = f.store();
  const auto results = run_push(*store, {{"A", 1}, {"B", 2}, {"C", 3}, {"D", 4}});
  REQUIRE(results.size() == 4);
  for (const auto& r : results) CHECK(r.outcome == PushOutcome::confirmed);
  CHECK(cursors == std::vector<std::string>{"null", "c1", "c2"});
  const auto& requests = f.session->requests();
  REQUIRE(requests.size() == 4);
  for (const auto& r : requests) {
    CHECK(r.method == "POST");
    CHECK(r.target == "/admin/api/2026-10/graphql.json");
    const auto* token = [&]() -> const std::string* {
      for (const auto& h : r.headers)
        if (h.name == "X-Shopify-Access-Token") return &h.value;
      return nullptr;
    }();
    REQUIRE(token != nullptr);
    CHECK(*token == kToken);
  }
  const auto walk = query_of(requests[0]);
  CHECK(walk.find("inventoryItems(first: 250, after: $cursor)") != std::string::npos);
  CHECK(walk.find("nodes { id sku }") != std::string::npos);
  CHECK(quantities_of(requests[3]) ==
        std::vector<std::pair<std::string, std::int64_t>>{
            {item(1), 1}, {item(2), 2}, {item(4), 2}, {item(3), 3}, {item(5), 4}});
  CHECK(f.cached("B") == item(2) + " " + item(4));

  // The next run (a new store object, as after a restart) makes no paging request.
  f.session->then([](const net::Request&) { return reply(set_ok()); });
  auto again = f.store();
  CHECK(f.checker->checks == 0);
  const auto second = run_push(*again, {{"B", 7}}, "shop/43");
  CHECK(second.front().outcome == PushOutcome::confirmed);
  CHECK(f.checker->checks == 1);  // the token is still proved, at 1 point
  REQUIRE(f.session->requests().size() == 5);
  CHECK(is_mutation(f.session->requests()[4]));
  CHECK(f.session->unused() == 0);
}

TEST_CASE("shopify: a cache made for another location is not used") {
  Fixture f;
  LmdbStoreIdCache(f.db, "shop",
                   "shopify https://acme.myshopify.com/admin/api/2026-10/graphql.json "
                   "gid://shopify/Location/8")
      .replace_all({{"A", item(9)}}, 1);
  f.session->then([](const net::Request&) { return reply(items_page({{"A", item(1)}}), 502); });
  f.session->then([](const net::Request&) { return reply(set_ok()); });
  auto store = f.store();
  CHECK(run_push(*store, {{"A", 1}}).front().outcome == PushOutcome::confirmed);
  CHECK(quantities_of(f.session->requests()[1]).front().first == item(1));
}

// ---- the push payload ------------------------------------------------------------------------

TEST_CASE("shopify: inventorySetQuantities carries the documented input and a content key") {
  Fixture f;
  f.cache({{"A", item(1)}, {"B", item(2)}});
  for (int i = 0; i < 4; ++i) f.session->then([](const net::Request&) { return reply(set_ok()); });
  auto store = f.store();
  CHECK(store->max_batch() == 250);
  run_push(*store, {{"A", 5}, {"B", 0}});
  const auto& first = f.session->requests().at(0);
  const auto query = query_of(first);
  CHECK(query.find("inventorySetQuantities(input: $input) @idempotent(key: $key)") !=
        std::string::npos);
  CHECK(query.find("userErrors { code field message }") != std::string::npos);
  const auto v = variables_of(first);
  const auto& input = v.at("input").as_object();
  CHECK(input.at("name").as_string() == "available");
  CHECK(input.at("reason").as_string() == "correction");
  CHECK(input.at("referenceDocumentUri").as_string() == "gid://packagebee/SyncRun/shop-42");
  const auto& quantities = input.at("quantities").as_array();
  REQUIRE(quantities.size() == 2);
  const auto& q0 = quantities[0].as_object();
  CHECK(q0.at("inventoryItemId").as_string() == item(1));
  CHECK(q0.at("locationId").as_string() == "gid://shopify/Location/7");
  CHECK(q0.at("quantity").as_int64() == 5);
  REQUIRE(q0.contains("changeFromQuantity"));
  CHECK(q0.at("changeFromQuantity").is_null());
  CHECK(key_of(first).size() == 36);

  // The engine pushing the same items again in the same run: the same key
  // (Shopify replays instead of applying twice). Another quantity, or another
  // run: another key.
  run_push(*store, {{"A", 5}, {"B", 0}});
  run_push(*store, {{"A", 6}, {"B", 0}});
  run_push(*store, {{"A", 5}, {"B", 0}}, "shop/43");
  const auto& r = f.session->requests();
  REQUIRE(r.size() == 4);
  CHECK(key_of(r[1]) == key_of(r[0]));
  CHECK(key_of(r[2]) != key_of(r[0]));
  CHECK(key_of(r[3]) != key_of(r[0]));
  // No SKU or id is ever spliced into a document.
  for (const auto& request : r) CHECK(query_of(request) == query);
}

TEST_CASE("shopify: a call never carries more than 250 quantities") {
  Fixture f;
  std::vector<std::pair<std::string, std::string>> entries;
  std::vector<PushItem> batch;
  for (int i = 0; i < 250; ++i) {
    const auto sku = fmt::format("S{:03}", i);
    // The first SKU sits on two variants: 251 quantities for 250 SKUs.
    entries.emplace_back(sku, i == 0 ? item(5000) + " " + item(5001) : item(i));
    batch.push_back({sku, i});
  }
  f.cache(entries);
  f.session->then([](const net::Request&) { return reply(set_ok()); });
  f.session->then([](const net::Request&) { return reply(set_ok()); });
  auto store = f.store();
  const auto results = run_push(*store, batch);
  for (const auto& r : results) CHECK(r.outcome == PushOutcome::confirmed);
  REQUIRE(f.session->requests().size() == 2);
  CHECK(quantities_of(f.session->requests()[0]).size() == 250);
  CHECK(quantities_of(f.session->requests()[1]).size() == 1);
}

TEST_CASE("shopify: quantities beyond Shopify's limit are rejected without a call") {
  Fixture f;
  f.cache({{"A", item(1)}});
  auto store = f.store();
  const auto results = run_push(*store, {{"A", 2'000'000'000}});
  CHECK(results.front().outcome == PushOutcome::rejected);
  CHECK(f.session->requests().empty());
}

// ---- user errors -----------------------------------------------------------------------------

TEST_CASE("shopify: a user error rejects its SKU and the rest are sent again and confirmed") {
  Fixture f;
  f.cache({{"A", item(1)}, {"B", item(2)}, {"C", item(3)}});
  f.session->then([](const net::Request&) {
    return reply(set_errors({{"ITEM_NOT_STOCKED_AT_LOCATION", 1,
                              "The specified inventory item is not stocked at the location."}}));
  });
  f.session->then([](const net::Request&) { return reply(set_ok()); });
  auto store = f.store();
  const auto results = run_push(*store, {{"A", 1}, {"B", 2}, {"C", 3}});
  CHECK(results[0].outcome == PushOutcome::confirmed);
  CHECK(results[1].outcome == PushOutcome::rejected);
  CHECK(results[1].message.find("not stocked at the location") != std::string::npos);
  CHECK(results[1].message.find("ITEM_NOT_STOCKED_AT_LOCATION") != std::string::npos);
  CHECK(results[2].outcome == PushOutcome::confirmed);
  const auto& r = f.session->requests();
  REQUIRE(r.size() == 2);
  CHECK(quantities_of(r[1]) ==
        std::vector<std::pair<std::string, std::int64_t>>{{item(1), 1}, {item(3), 3}});
  CHECK(key_of(r[1]) != key_of(r[0]));  // other content, other key
}

TEST_CASE("shopify: rounds of partial rejections are bounded") {
  Fixture f;
  std::vector<std::pair<std::string, std::string>> entries;
  std::vector<PushItem> batch;
  for (int i = 0; i < 10; ++i) {
    entries.emplace_back(fmt::format("S{}", i), item(i));
    batch.push_back({fmt::format("S{}", i), i});
  }
  f.cache(entries);
  // Shopify rejects the first quantity of every call.
  for (int i = 0; i < ShopifyStore::kMaxRounds; ++i)
    f.session->then([](const net::Request&) {
      return reply(set_errors({{"INVALID_QUANTITY_TOO_HIGH", 0, "too high"}}));
    });
  auto store = f.store();
  const auto results = run_push(*store, batch);
  CHECK(f.session->requests().size() == ShopifyStore::kMaxRounds);
  for (int i = 0; i < ShopifyStore::kMaxRounds; ++i)
    CHECK(results[static_cast<std::size_t>(i)].outcome == PushOutcome::rejected);
  for (std::size_t i = ShopifyStore::kMaxRounds; i < results.size(); ++i)
    CHECK(results[i].outcome == PushOutcome::transient);
}

TEST_CASE("shopify: an error that names no quantity leaves the whole call transient") {
  Fixture f;
  f.cache({{"A", item(1)}, {"B", item(2)}});
  f.session->then([](const net::Request&) {
    return reply(set_errors({{"SOMETHING_NEW", -1, "Something went wrong."}}));
  });
  auto store = f.store();
  const auto results = run_push(*store, {{"A", 1}, {"B", 2}});
  for (const auto& r : results) {
    CHECK(r.outcome == PushOutcome::transient);
    CHECK(r.message.find("Something went wrong.") != std::string::npos);
  }
}

TEST_CASE("shopify: a failed key is replaced after IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED") {
  Fixture f;
  f.cache({{"A", item(1)}});
  f.session->then([](const net::Request&) {
    return reply(
        set_errors({{"IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED", -1, "Retry with a new key."}}));
  });
  f.session->then([](const net::Request&) { return reply(set_ok()); });
  auto store = f.store();
  CHECK(run_push(*store, {{"A", 1}}).front().outcome == PushOutcome::confirmed);
  const auto& r = f.session->requests();
  REQUIRE(r.size() == 2);
  CHECK(key_of(r[1]) != key_of(r[0]));
  CHECK(quantities_of(r[1]) == quantities_of(r[0]));
}

TEST_CASE("shopify: a concurrent request with the same key is waited for, then resent as is") {
  Fixture f;
  f.cache({{"A", item(1)}});
  std::vector<Clock::time_point> at;
  f.session->then([&at](const net::Request&) {
    at.push_back(Clock::now());
    return reply(set_errors({{"IDEMPOTENCY_CONCURRENT_REQUEST", -1, "in progress"}}));
  });
  f.session->then([&at](const net::Request&) {
    at.push_back(Clock::now());
    return reply(set_ok());
  });
  auto store = f.store();
  CHECK(run_push(*store, {{"A", 1}}).front().outcome == PushOutcome::confirmed);
  const auto& r = f.session->requests();
  REQUIRE(r.size() == 2);
  CHECK(r[1].body == r[0].body);
  CHECK(at[1] - at[0] >= milliseconds(1000));
}

TEST_CASE("shopify: an unknown location ends the run") {
  Fixture f;
  f.cache({{"A", item(1)}});
  f.session->then([](const net::Request&) {
    return reply(
        set_errors({{"INVALID_LOCATION", 0, "The specified location could not be found."}}));
  });
  auto store = f.store();
  const auto e = store_error([&] { run_push(*store, {{"A", 1}}); });
  CHECK_FALSE(e.retry_in_run());
  CHECK(std::string(e.what()).find("location_id") != std::string::npos);
}

TEST_CASE("shopify: an item Shopify no longer knows is looked up again and retried once") {
  Fixture f;
  f.cache({{"A", item(1)}, {"B", item(2)}});
  f.session->then([](const net::Request&) {
    return reply(set_errors(
        {{"INVALID_INVENTORY_ITEM", 0, "The specified inventory item could not be found."}}));
  });
  f.session->then([](const net::Request&) { return reply(set_ok()); });  // B alone
  std::string search;
  f.session->then([&search](const net::Request& r) {
    search = std::string(variables_of(r).at("query").as_string());
    return reply(items_page({{"A", item(11)}}), 102);
  });
  f.session->then([](const net::Request&) { return reply(set_ok()); });  // A on its new item
  auto store = f.store();
  const auto results = run_push(*store, {{"A", 1}, {"B", 2}});
  CHECK(results[0].outcome == PushOutcome::confirmed);
  CHECK(results[1].outcome == PushOutcome::confirmed);
  CHECK(search == R"(sku:"A")");
  const auto& r = f.session->requests();
  REQUIRE(r.size() == 4);
  CHECK(query_of(r[2]).find("$query") != std::string::npos);
  CHECK(quantities_of(r[3]) == std::vector<std::pair<std::string, std::int64_t>>{{item(11), 1}});
  CHECK(f.cached("A") == item(11));

  SUBCASE("twice invalid: rejected, no third try") {
    f.session->then([](const net::Request&) {
      return reply(set_errors({{"INVALID_INVENTORY_ITEM", 0, "could not be found"}}));
    });
    f.session->then([](const net::Request&) { return reply(items_page({{"A", item(12)}}), 102); });
    f.session->then([](const net::Request&) {
      return reply(set_errors({{"INVALID_INVENTORY_ITEM", 0, "could not be found"}}));
    });
    const auto again = run_push(*store, {{"A", 3}}, "shop/43");
    CHECK(again[0].outcome == PushOutcome::rejected);
    CHECK(f.session->requests().size() == 7);
    CHECK(f.session->unused() == 0);
  }
}

// ---- SKUs the cache does not know ------------------------------------------------------------

TEST_CASE("shopify: unknown SKUs are searched for, in bounded numbers, then rejected") {
  Fixture f;
  f.cache({{"A", item(1)}});
  std::vector<std::string> searches;
  f.session->then([&searches](const net::Request& r) {
    const auto v = variables_of(r);
    searches.push_back(std::string(v.at("query").as_string()));
    CHECK(v.at("first").as_int64() == 3);
    // Shopify's search ignores case: "new" comes back for "NEW" and must not count.
    return reply(items_page({{"new", item(20)}, {"X\"1", item(21)}}), 8);
  });
  f.session->then([](const net::Request&) { return reply(set_ok()); });
  auto store = f.store();
  const auto results = run_push(*store, {{"A", 1}, {"NEW", 2}, {"X\"1", 3}, {"Y", 4}});
  CHECK(searches == std::vector<std::string>{R"(sku:"NEW" OR sku:"X\"1" OR sku:"Y")"});
  CHECK(results[0].outcome == PushOutcome::confirmed);
  CHECK(results[1].outcome == PushOutcome::rejected);
  CHECK(results[1].message == "SKU not found in the Shopify catalogue");
  CHECK(results[2].outcome == PushOutcome::confirmed);
  CHECK(results[3].outcome == PushOutcome::rejected);
  CHECK(quantities_of(f.session->requests()[1]) ==
        std::vector<std::pair<std::string, std::int64_t>>{{item(1), 1}, {item(21), 3}});
  CHECK(f.cached("X\"1") == item(21));
  // No SKU text in the document: only in the $query variable.
  CHECK(query_of(f.session->requests()[0]).find("X") == std::string::npos);
}

TEST_CASE("shopify: long unknown SKUs are searched for in groups under the query length bound") {
  Fixture f;
  f.cache({});
  std::vector<std::string> searches;
  for (int i = 0; i < 3; ++i)
    f.session->then([&searches](const net::Request& r) {
      const auto v = variables_of(r);
      searches.push_back(std::string(v.at("query").as_string()));
      CHECK(query_of(r).find("inventoryItems(first: $first, after: $cursor, query: $query)") !=
            std::string::npos);
      return reply(items_page({}), 52);
    });
  std::vector<PushItem> batch;  // 40 SKUs of 200 characters: 206 a term, 19 fit in 4,096
  for (int i = 0; i < 40; ++i)
    batch.push_back({fmt::format("{:03}", i) + std::string(197, 'L'), 1});
  auto store = f.store();
  const auto results = run_push(*store, std::move(batch));
  REQUIRE(searches.size() == 3);
  for (const auto& q : searches) CHECK(q.size() <= shopify::kMaxSearchChars);
  CHECK(searches[0].rfind("sku:\"000", 0) == 0);
  CHECK(searches[2].find("039") != std::string::npos);
  for (const auto& r : results) CHECK(r.outcome == PushOutcome::rejected);
}

TEST_CASE("shopify: a paged walk checkpointed by the productVariants walk starts again") {
  Fixture f;
  {
    LmdbStoreIdCache old(f.db, "shop", std::string(kFingerprint));
    old.begin_walk("pages eyJsYXN0X2lkIjo1MDAxMjV9");
    old.walk_step({{"OLD", "gid://shopify/InventoryItem/999"}}, "pages eyJsYXN0X2lkIjo1MDAyNTB9");
  }
  std::vector<std::string> cursors;
  f.session->then([&cursors](const net::Request& r) {
    const auto cursor = variables_of(r).at("cursor");
    cursors.push_back(cursor.is_null() ? "null" : std::string(cursor.as_string()));
    return reply(items_page({{"A", item(1)}}), 252);
  });
  auto store = f.store();
  run_prepare(*store);
  CHECK(cursors == std::vector<std::string>{"null"});  // the old cursor was not sent
  CHECK(f.cached("A") == item(1));
  CHECK_FALSE(f.cached("OLD"));  // what the old walk stored was dropped with it
  LmdbStoreIdCache cache(f.db, "shop", std::string(kFingerprint));
  CHECK(cache.complete());
  CHECK_FALSE(cache.walk_checkpoint());
}

TEST_CASE("shopify: a run looks up at most 1,000 SKUs") {
  Fixture f;
  f.cache({});
  std::size_t searched = 0;
  for (std::size_t i = 0; i < ShopifyStore::kLookupsPerRun / 50; ++i)
    f.session->then([&searched](const net::Request& r) {
      searched += static_cast<std::size_t>(variables_of(r).at("first").as_int64());
      return reply(items_page({}), 102);
    });
  std::vector<std::vector<PushItem>> batches;
  for (int b = 0; b < 5; ++b) {
    std::vector<PushItem> batch;
    for (int i = 0; i < 250; ++i) batch.push_back({fmt::format("U{}-{:03}", b, i), 1});
    batches.push_back(std::move(batch));
  }
  auto store = f.store();
  const auto results = run_pushes(*store, std::move(batches));
  CHECK(searched == ShopifyStore::kLookupsPerRun);
  CHECK(f.session->requests().size() == ShopifyStore::kLookupsPerRun / 50);
  REQUIRE(results.size() == 1250);
  for (const auto& r : results) CHECK(r.outcome == PushOutcome::rejected);
  CHECK(results.back().message.find("lookups are used up") != std::string::npos);
}

// ---- rate limits -----------------------------------------------------------------------------

TEST_CASE("shopify: THROTTLED is waited out for exactly the missing points, then resent as is") {
  Fixture f;
  f.cache({{"A", item(1)}});
  std::vector<Clock::time_point> at;
  // Needs 10, has 4, refills 200/s: (10 - 4) / 200 = 30 ms.
  f.session->then([&at](const net::Request&) {
    at.push_back(Clock::now());
    return throttled(10, {4, 100, 200});
  });
  f.session->then([&at](const net::Request&) {
    at.push_back(Clock::now());
    return reply(set_ok(), 10, {90, 100, 200});
  });
  auto store = f.store();
  CHECK(run_push(*store, {{"A", 1}}).front().outcome == PushOutcome::confirmed);
  REQUIRE(at.size() == 2);
  const auto waited = std::chrono::duration_cast<milliseconds>(at[1] - at[0]);
  CHECK(waited >= milliseconds(30));
  CHECK(waited < milliseconds(30 + 250));  // no fixed sleep: a scheduling margin only
  const auto& r = f.session->requests();
  CHECK(r[1].body == r[0].body);  // the same call, the same key
  CHECK(store->stats().throttled == 1);
  CHECK(store->stats().throttle_wait == milliseconds(30));
}

TEST_CASE("shopify: calls are paced by the bucket Shopify reports") {
  Fixture f;
  std::vector<PushItem> batch;
  std::vector<std::pair<std::string, std::string>> entries;
  for (int i = 0; i < 251; ++i) {  // two calls
    entries.emplace_back(fmt::format("S{:03}", i), item(i));
    batch.push_back({fmt::format("S{:03}", i), 1});
  }
  f.cache(entries);
  std::vector<Clock::time_point> at;
  // The first call leaves 2 points; the next needs 10 at 100/s: 80 ms.
  f.session->then([&at](const net::Request&) {
    at.push_back(Clock::now());
    return reply(set_ok(), 10, {2, 1000, 100});
  });
  f.session->then([&at](const net::Request&) {
    at.push_back(Clock::now());
    return reply(set_ok(), 10, {1000, 1000, 100});
  });
  auto store = f.store();
  run_push(*store, batch);
  REQUIRE(at.size() == 2);
  const auto gap = std::chrono::duration_cast<milliseconds>(at[1] - at[0]);
  CHECK(gap >= milliseconds(80));
  CHECK(gap < milliseconds(80 + 250));
  CHECK(store->stats().throttled == 0);
  CHECK(store->stats().paced > milliseconds(0));  // the rest of the gap was work

  SUBCASE("a full bucket: no wait") {
    const auto before = store->stats().paced;
    f.session->then([](const net::Request&) { return reply(set_ok(), 10, {1000, 1000, 100}); });
    f.session->then([](const net::Request&) { return reply(set_ok(), 10, {990, 1000, 100}); });
    run_push(*store, batch, "shop/43");
    CHECK(store->stats().paced == before);
  }
}

// ---- failures --------------------------------------------------------------------------------

TEST_CASE("shopify: a refused token ends the run at once, and the token is never in the message") {
  Fixture f;
  f.session->then_status(
      401,
      R"j({"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"})j");
  auto store = f.store();
  // Refused during prepare's walk, thrown by the push (the SKUs carry the message).
  const auto e = store_error([&] { run_push(*store, {{"A", 1}}); });
  CHECK_FALSE(e.retry_in_run());
  const std::string message = e.what();
  CHECK(message.find("Shopify refused the access token (HTTP 401)") != std::string::npos);
  CHECK(message.find("access_token_file") != std::string::npos);
  CHECK(message.find(kToken) == std::string::npos);
  CHECK(f.session->requests().size() == 1);  // no retry
}

TEST_CASE("shopify: with the catalogue cached, a refused token is thrown by the first push") {
  // As WooCommerce does: prepare() does not fail, so the engine leaves the message on the
  // SKUs of the batch (the per-SKU error column), not '-'.
  Fixture f;
  f.cache({{"A", item(1)}});
  f.checker->status = 403;
  auto store = f.store();
  run_prepare(*store);
  CHECK(f.checker->checks == 1);
  const auto e = store_error([&] { run_push(*store, {{"A", 1}}); });
  CHECK_FALSE(e.retry_in_run());
  CHECK(std::string(e.what()).find("Shopify refused the access token (HTTP 403)") !=
        std::string::npos);
  CHECK(f.checker->checks == 2);  // run_push prepares again (a new run): one check each
  CHECK(f.session->requests().empty());
}

TEST_CASE("shopify: catalogue_refresh walks a map older than that again, unset never") {
  Fixture f;
  LmdbStoreIdCache(f.db, "shop", std::string(kFingerprint))
      .replace_all({{"A", item(1)}}, now_millis() - 2 * 3600 * 1000);
  auto store = f.store();
  run_prepare(*store);
  CHECK(f.checker->checks == 1);  // the token check, no walk
  CHECK(f.session->requests().empty());

  f.config.catalogue_refresh = std::chrono::hours(1);
  f.session->then([](const net::Request&) { return reply(items_page({{"A", item(2)}})); });
  auto hourly = f.store();
  run_prepare(*hourly);
  CHECK(f.checker->checks == 1);
  REQUIRE(f.session->requests().size() == 1);
  CHECK(f.cached("A") == item(2));
}

TEST_CASE("shopify: GraphQL errors without data end the run with Shopify's first message") {
  Fixture f;
  f.cache({{"A", item(1)}});
  f.session->then_status(
      200,
      R"({"errors":[{"message":"Field 'bogus' doesn't exist","extensions":{"code":"undefinedField"}},{"message":"second"}]})");
  auto store = f.store();
  const auto e = store_error([&] { run_push(*store, {{"A", 1}}); });
  CHECK_FALSE(e.retry_in_run());
  CHECK(std::string(e.what()).find("Field 'bogus' doesn't exist") != std::string::npos);
  CHECK(std::string(e.what()).find(kToken) == std::string::npos);
  CHECK(f.session->requests().size() == 1);
}

TEST_CASE("shopify: an unreadable 200 answer is retried, a lasting failure ends the run") {
  Fixture f;
  f.cache({{"A", item(1)}});
  f.session->then_status(200, R"({"data":{"inventorySetQu)");
  f.session->then([](const net::Request&) { return reply(set_ok()); });
  auto store = f.store();
  CHECK(run_push(*store, {{"A", 1}}).front().outcome == PushOutcome::confirmed);
  const auto& r = f.session->requests();
  REQUIRE(r.size() == 2);
  CHECK(r[1].body == r[0].body);  // same key: if the first was applied, Shopify replays it

  for (int i = 0; i < 5; ++i) f.session->then_status(503, "Service Unavailable");
  const auto e = store_error([&] { run_push(*store, {{"A", 2}}); });
  CHECK_FALSE(e.retry_in_run());
  CHECK(std::string(e.what()).find(kToken) == std::string::npos);
  CHECK(f.session->requests().size() == 7);
}

TEST_CASE("shopify: a missing token file fails the run, naming the file") {
  Fixture f;
  f.config.access_token_file = f.dir / "missing";
  auto store = f.store();
  const auto e = store_error([&] { run_prepare(*store); });
  CHECK_FALSE(e.retry_in_run());
  CHECK(std::string(e.what()).find("missing") != std::string::npos);
  CHECK(f.session->requests().empty());
}

TEST_CASE("shopify: describe names the shop and the location, nothing secret") {
  Fixture f;
  CHECK(f.store()->describe() == "shopify acme.myshopify.com location 7");
}

// ---- the bulk walk -----------------------------------------------------------------------------

namespace {

// Answers GETs of `file` with the Range asked, as a storage service does.
net::Response range_answer(const std::string& file, const net::Request& request) {
  const std::string* range = nullptr;
  for (const auto& h : request.headers)
    if (h.name == "Range") range = &h.value;
  REQUIRE(range != nullptr);
  std::size_t from = 0, to = 0;
  REQUIRE(std::sscanf(range->c_str(), "bytes=%zu-%zu", &from, &to) == 2);
  if (from >= file.size()) return net::Response{416, {}, ""};
  to = std::min(to, file.size() - 1);
  return net::Response{206,
                       {{"Content-Range", fmt::format("bytes {}-{}/{}", from, to, file.size())}},
                       file.substr(from, to - from + 1)};
}

}  // namespace

TEST_CASE("shopify: the bulk walk streams a result of several chunks into the map") {
  Fixture f;
  // 45,000 variants: about 5 MB of JSONL, more than one 4 MiB Range request.
  std::string file;
  constexpr int kVariants = 45'000;
  for (int i = 0; i < kVariants; ++i)
    file += fmt::format(
        R"({{"id":"gid://shopify/ProductVariant/{}","sku":"S-{}","inventoryItem":{{"id":"{}"}}}})"
        "\n",
        i, i, item(i));
  REQUIRE(file.size() > (std::size_t{4} << 20));
  f.session->then([](const net::Request& r) {
    CHECK(query_of(r).find("bulkOperationRunQuery") != std::string::npos);
    return reply(json::parse(R"({"bulkOperationRunQuery":{"bulkOperation":
        {"id":"gid://shopify/BulkOperation/9","status":"CREATED"},"userErrors":[]}})"));
  });
  f.session->then([](const net::Request& r) {
    CHECK(variables_of(r).at("id") == "gid://shopify/BulkOperation/9");
    return reply(json::parse(R"({"bulkOperation":{"id":"gid://shopify/BulkOperation/9",
        "status":"COMPLETED","errorCode":null,"objectCount":"45000",
        "url":"https://storage.test/r.jsonl"}})"));
  });
  auto results = std::make_shared<FakeHttpSession>("https://storage.test");
  for (int i = 0; i < 2; ++i)
    results->then([&file](const net::Request& r) { return range_answer(file, r); });
  auto store = f.store_with_results(results);
  run_prepare(*store);
  CHECK(results->requests().size() == 2);
  CHECK(f.cached("S-0") == item(0));
  CHECK(f.cached("S-44999") == item(44999));
  LmdbStoreIdCache cache(f.db, "shop", std::string(kFingerprint));
  CHECK(cache.complete());
  CHECK(cache.size() == kVariants);
  CHECK_FALSE(cache.walk_checkpoint());
}

TEST_CASE("shopify: a bulk query refused with ACCESS_DENIED falls back to the paged walk") {
  Fixture f;
  f.session->then_status(
      200,
      R"({"errors":[{"message":"Access denied for bulkOperationRunQuery field.","extensions":{"code":"ACCESS_DENIED"}}],"data":null})");
  f.session->then([](const net::Request& r) {
    CHECK(query_of(r).find("PackageBeeItems") != std::string::npos);
    return reply(items_page({{"A", item(1)}, {"B", item(2)}}));
  });
  auto results = std::make_shared<FakeHttpSession>("https://storage.test");
  auto store = f.store_with_results(results);
  run_prepare(*store);
  CHECK(f.session->requests().size() == 2);
  CHECK(results->requests().empty());
  CHECK(f.cached("B") == item(2));
  CHECK(LmdbStoreIdCache(f.db, "shop", std::string(kFingerprint)).complete());
}

TEST_CASE("shopify: a bulk operation with no result (an empty catalogue) completes an empty map") {
  Fixture f;
  f.session->then([](const net::Request&) {
    return reply(json::parse(R"({"bulkOperationRunQuery":{"bulkOperation":
        {"id":"gid://shopify/BulkOperation/3","status":"CREATED"},"userErrors":[]}})"));
  });
  f.session->then([](const net::Request&) {
    return reply(json::parse(R"({"bulkOperation":{"id":"gid://shopify/BulkOperation/3",
        "status":"COMPLETED","errorCode":null,"objectCount":"0","url":null}})"));
  });
  auto results = std::make_shared<FakeHttpSession>("https://storage.test");
  auto store = f.store_with_results(results);
  run_prepare(*store);
  CHECK(f.session->unused() == 0);  // started, polled once
  CHECK(results->requests().empty());
  LmdbStoreIdCache cache(f.db, "shop", std::string(kFingerprint));
  CHECK(cache.complete());
  CHECK(cache.size() == 0);
}
