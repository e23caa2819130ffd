// The Medusa store connector: its pure parts (queries cut to Medusa's query limits, bodies,
// replies, error bodies) and the connector against MiniMedusa, a small in-test model of the
// Admin API's inventory routes with their observed rules (an all-or-nothing batch, 404 "not
// stocked at location" until a level exists, 400 for a level created twice). The real Medusa is
// driven through beed in tests/integration/test_store_medusa.py.
#include "connectors/store/medusa/medusa_store.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "connectors/store/medusa/medusa_catalogue.hpp"
#include "connectors/store/medusa/medusa_levels.hpp"
#include "connectors/store/medusa/medusa_requests.hpp"
#include "connectors/store/resumable_walk.hpp"
#include "fake_http_session.hpp"
#include "net/basic_auth.hpp"
#include "request_target.hpp"
#include "state/inventory_db.hpp"
#include "state/lmdb_store_id_cache.hpp"
#include "test_support.hpp"

using namespace pb;
using namespace pb::connectors;
using namespace pb::connectors::medusa;
namespace asio = boost::asio;
namespace json = boost::json;
using pb::test::ScratchDir;
using pb::test::write_file;

namespace {

constexpr std::string_view kLoc = "sloc_01TEST";
constexpr std::string_view kKey = "sk_0123456789abcdef";

std::vector<std::pair<std::string, std::string>> query_pairs(std::string_view target) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  auto rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    out.emplace_back(test::percent_decode(pair.substr(0, eq)),
                     test::percent_decode(pair.substr(eq + 1)));
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return out;
}

net::Response json_reply(unsigned status, const json::value& body) {
  return net::Response{status, {{"Content-Type", "application/json"}}, json::serialize(body)};
}

// The inventory routes of a Medusa 2.x server, as observed on 2.21.2.
struct MiniMedusa {
  struct Item {
    std::string sku;
    std::optional<Quantity> level;  // stocked_quantity at kLoc; none: no level there
  };
  std::map<std::string, Item> items;  // by id
  bool batch_route = true;
  std::size_t writes = 0;
  std::vector<std::size_t> walk_offsets;     // offsets of the catalogue pages read (no SKU)
  std::optional<std::size_t> refuse_offset;  // that page is refused (400) once
  std::function<void(std::size_t)> on_page;  // called for each catalogue page asked

  net::Response answer(const net::Request& r) {
    const auto auth = net::basic_authorization(kKey, "");
    bool authorised = false;
    for (const auto& h : r.headers) authorised |= h.name == "Authorization" && h.value == auth;
    if (!authorised) return json_reply(401, {{"message", "Unauthorized"}});
    const auto path = test::split_target(r.target).path;
    if (r.method == "GET" && path == "/admin/inventory-items") return list(r);
    if (r.method == "POST" && path == "/admin/inventory-items/location-levels/batch" && batch_route)
      return batch(json::parse(r.body));
    if (r.method == "POST" && path.starts_with("/admin/inventory-items/iitem_"))
      return one(r, path);
    return net::Response{
        404, {{"Content-Type", "text/html"}}, "<pre>Cannot POST " + path + "</pre>"};
  }

  json::object item_json(const std::string& id) const {
    json::array levels;
    if (items.at(id).level)
      levels.push_back({{"location_id", kLoc}, {"stocked_quantity", *items.at(id).level}});
    return {{"id", id}, {"sku", items.at(id).sku}, {"location_levels", levels}};
  }

  net::Response list(const net::Request& r) {
    std::set<std::string> skus;
    std::size_t offset = 0, limit = 20;
    for (const auto& [k, v] : query_pairs(r.target)) {
      if (k == "sku") skus.insert(v);
      if (k == "offset") offset = std::stoul(v);
      if (k == "limit") limit = std::stoul(v);
    }
    if (skus.empty()) {
      walk_offsets.push_back(offset);
      if (on_page) on_page(offset);
      if (refuse_offset == offset) {
        refuse_offset.reset();
        return json_reply(400, {{"type", "invalid_data"}, {"message", "page refused"}});
      }
    }
    json::array page;
    std::size_t count = 0;
    for (const auto& [id, item] : items) {
      if (!skus.empty() && !skus.contains(item.sku)) continue;
      if (count++ >= offset && page.size() < limit) page.push_back(item_json(id));
    }
    return json_reply(
        200, {{"inventory_items", page}, {"count", count}, {"offset", offset}, {"limit", limit}});
  }

  static net::Response not_stocked(const std::string& id) {
    return json_reply(
        404, {{"type", "not_found"},
              {"message", "Item " + id + " is not stocked at location " + std::string(kLoc)}});
  }

  // All or nothing: every entry is checked before any is applied.
  net::Response batch(const json::value& body) {
    for (const auto* list : {"create", "update"})
      for (const auto& e : body.at(list).as_array()) {
        const std::string id(e.at("inventory_item_id").as_string());
        const auto it = items.find(id);
        if (it == items.end() || (list == std::string("update") && !it->second.level))
          return not_stocked(id);
        if (list == std::string("create") && it->second.level)
          return json_reply(
              400, {{"type", "invalid_data"},
                    {"message", "Inventory level with inventory_item_id: " + id +
                                    ", location_id: " + std::string(kLoc) + ", already exists."}});
      }
    ++writes;
    json::object reply{
        {"created", json::array{}}, {"updated", json::array{}}, {"deleted", json::array{}}};
    for (const auto* list : {"create", "update"})
      for (const auto& e : body.at(list).as_array()) {
        const std::string id(e.at("inventory_item_id").as_string());
        items[id].level = e.at("stocked_quantity").as_int64();
        reply[list == std::string("create") ? "created" : "updated"].as_array().push_back(
            {{"inventory_item_id", id},
             {"location_id", kLoc},
             {"stocked_quantity", *items[id].level}});
      }
    return json_reply(200, reply);
  }

  net::Response one(const net::Request& r, const std::string& path) {
    const auto rest = path.substr(std::string("/admin/inventory-items/").size());
    const auto id = rest.substr(0, rest.find('/'));
    const auto it = items.find(id);
    const auto body = json::parse(r.body);
    const bool create = rest.ends_with("/location-levels");
    if (it == items.end() || (!create && !it->second.level)) return not_stocked(id);
    ++writes;
    it->second.level = body.at("stocked_quantity").as_int64();
    return json_reply(200, {{"inventory_item", item_json(id)}});
  }
};

asio::awaitable<std::vector<PushResult>> prepare_then_push(Store& store,
                                                           std::vector<PushItem> batch,
                                                           asio::any_io_executor pool) {
  PushContext context{pool, "shop/1"};
  co_await store.prepare(context);
  co_return co_await store.push(std::move(batch), context);
}

using Progress = test::RecordingProgress;

struct Fixture {
  ScratchDir dir;
  std::shared_ptr<test::FakeHttpSession> fake = std::make_shared<test::FakeHttpSession>();
  MiniMedusa medusa;
  config::MedusaStoreConfig config;
  std::unique_ptr<MedusaStore> store;

  Fixture() {
    write_file(dir / "key", std::string(kKey) + "\n");
    config.url = "https://medusa.test";
    config.api_key_file = dir / "key";
    config.location_id = kLoc;
    store = std::make_unique<MedusaStore>(config, StoreDeps{{}, {}, "shop"}, fake);
  }
  void serve(std::size_t n = 200) {
    for (std::size_t i = 0; i < n; ++i)
      fake->then([this](const net::Request& r) { return medusa.answer(r); });
  }
  std::vector<PushResult> push(std::vector<PushItem> batch) {
    return test::run_with_pool([&](asio::any_io_executor pool) {
      return prepare_then_push(*store, std::move(batch), pool);
    });
  }
  // prepare() alone, reporting to `progress` and stopping when `stop` is set.
  void prepare(MappingProgress* progress = nullptr,
               std::shared_ptr<std::atomic<bool>> stop = nullptr) {
    test::run_with_pool([&](asio::any_io_executor pool) -> asio::awaitable<void> {
      PushContext context{pool, "shop/1", progress, stop};
      co_await store->prepare(context);
    });
  }
  // `n` inventory items "I00000"... with SKUs "S00000"..., in id order.
  void catalogue(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto k = std::to_string(100000 + i).substr(1);
      medusa.items["iitem_" + k] = {"S" + k, std::nullopt};
    }
  }
  std::size_t count(std::string_view method, std::string_view path) const {
    std::size_t n = 0;
    for (const auto& r : fake->requests())
      n += r.method == method && test::split_target(r.target).path == path;
    return n;
  }
};

}  // namespace

TEST_CASE("map values: the item id and whether it has a level, junk is not decoded") {
  CHECK(encode_item({"iitem_1", true}) == "1iitem_1");
  CHECK(encode_item({"iitem_2", false}) == "0iitem_2");
  CHECK(decode_item("1iitem_1") == ItemRef{"iitem_1", true});
  CHECK(decode_item("0iitem_2") == ItemRef{"iitem_2", false});
  CHECK_FALSE(decode_item(kNotInStore));
  CHECK_FALSE(decode_item("x"));
  CHECK_FALSE(decode_item("2iitem"));
}

TEST_CASE("catalogue pages: only the fields the map needs, in id order") {
  CHECK(catalogue_query(2000, 1000) ==
        "fields=id,sku,location_levels.location_id&order=id&limit=1000&offset=2000");
}

TEST_CASE("sku look-ups stay under Medusa's 1,000 parameters and its URL size, fixed ones first") {
  std::vector<std::string> skus;
  for (int i = 0; i < 2500; ++i)
    skus.push_back("SKU-" + std::to_string(i) + (i == 7 ? " &=é" : ""));
  const QueryLimits limits;
  const auto queries = lookup_queries(skus, limits);
  std::vector<std::string> seen;
  for (const auto& q : queries) {
    CHECK(q.size() + 64 <= limits.max_bytes);
    const auto pairs = query_pairs("?" + q);
    CHECK(pairs.size() <= limits.max_params);
    REQUIRE(pairs.size() >= 3);
    CHECK(pairs[0].first == "fields");
    CHECK(pairs[1].first == "limit");
    CHECK(std::stoul(pairs[1].second) == pairs.size() - 2);  // one page answers the query
    for (std::size_t i = 2; i < pairs.size(); ++i) seen.push_back(pairs[i].second);
  }
  CHECK(seen == skus);  // each SKU once, encoded and decoded back
  // Long SKUs: the byte bound cuts first.
  const std::vector<std::string> long_skus(100, std::string(400, 'x'));
  const auto cut = lookup_queries(long_skus, limits);
  CHECK(cut.size() >= 5);
  for (const auto& q : cut) CHECK(q.size() + 64 <= limits.max_bytes);
  // A tighter parameter bound.
  CHECK(lookup_queries(skus, QueryLimits{.max_params = 12, .max_bytes = 1 << 20}).size() == 250);
  CHECK(lookup_queries(std::vector<std::string>{}).empty());
}

TEST_CASE(
    "an inventory page: SKU, id, whether a level is at our location, items without SKU skipped") {
  const auto body = json::parse(R"({"inventory_items":[
      {"id":"iitem_a","sku":"A","location_levels":[{"location_id":"sloc_other"}]},
      {"id":"iitem_b","sku":"B","location_levels":[{"location_id":"sloc_01TEST"}]},
      {"id":"iitem_c","sku":null,"location_levels":[]}],"count":1203,"offset":0,"limit":1000})");
  const auto page = parse_inventory_page(body, kLoc);
  CHECK(page.count == 1203);
  CHECK(page.returned == 3);
  REQUIRE(page.items.size() == 2);
  CHECK(page.items[0] == std::pair<std::string, ItemRef>{"A", {"iitem_a", false}});
  CHECK(page.items[1] == std::pair<std::string, ItemRef>{"B", {"iitem_b", true}});
  CHECK_THROWS(parse_inventory_page(json::parse(R"({"message":"x"})"), kLoc));
  CHECK_THROWS(parse_inventory_page(json::parse(R"({"inventory_items":[{"sku":"A"}]})"), kLoc));
}

TEST_CASE("the batch body: creates and updates apart, each with item, location and quantity") {
  const std::vector<LevelWrite> writes{{"iitem_a", 5, true}, {"iitem_b", 0, false}};
  CHECK(json::parse(batch_body(writes, kLoc)) == json::parse(R"({
      "create":[{"inventory_item_id":"iitem_a","location_id":"sloc_01TEST","stocked_quantity":5}],
      "update":[{"inventory_item_id":"iitem_b","location_id":"sloc_01TEST","stocked_quantity":0}],
      "delete":[]})"));
  CHECK(json::parse(level_update_body(7)) == json::parse(R"({"stocked_quantity":7})"));
  CHECK(json::parse(level_create_body(kLoc, 7)) ==
        json::parse(R"({"location_id":"sloc_01TEST","stocked_quantity":7})"));
}

TEST_CASE("a batch reply confirms only what it shows at our location") {
  const std::vector<LevelWrite> writes{{"iitem_a", 5, true}, {"iitem_b", 3, false}};
  const auto good = json::parse(
      R"({"created":[{"inventory_item_id":"iitem_a","location_id":"sloc_01TEST","stocked_quantity":5}],
      "updated":[{"inventory_item_id":"iitem_b","location_id":"sloc_01TEST","stocked_quantity":3}],"deleted":[]})");
  CHECK_FALSE(check_batch_reply(good, writes, kLoc));
  const auto wrong = json::parse(
      R"({"created":[{"inventory_item_id":"iitem_a","location_id":"sloc_01TEST","stocked_quantity":5}],
      "updated":[{"inventory_item_id":"iitem_b","location_id":"sloc_01TEST","stocked_quantity":2}]})");
  CHECK(check_batch_reply(wrong, writes, kLoc).value().find("stocked_quantity 2") !=
        std::string::npos);
  const auto elsewhere = json::parse(
      R"({"created":[{"inventory_item_id":"iitem_a","location_id":"sloc_x","stocked_quantity":5}],
      "updated":[{"inventory_item_id":"iitem_b","location_id":"sloc_01TEST","stocked_quantity":3}]})");
  CHECK(check_batch_reply(elsewhere, writes, kLoc).value().find("iitem_a") != std::string::npos);
  const auto item = json::parse(R"({"inventory_item":{"id":"iitem_a","location_levels":[
      {"location_id":"sloc_01TEST","stocked_quantity":5}]}})");
  CHECK_FALSE(check_item_reply(item, writes[0], kLoc));
  CHECK(check_item_reply(item, LevelWrite{"iitem_a", 6, false}, kLoc));
}

TEST_CASE("error bodies: type and message, 401's message alone, a proxy page is the status only") {
  CHECK(
      describe_error(
          {404,
           {},
           R"({"type":"not_found","message":"Item iitem_x is not stocked at location sloc_y"})"}) ==
      "HTTP 404 not_found: Item iitem_x is not stocked at location sloc_y");
  CHECK(describe_error({401, {}, R"({"message":"Unauthorized"})"}) == "HTTP 401: Unauthorized");
  CHECK(describe_error({502, {}, "<html>Bad gateway</html>"}) == "HTTP 502");
  CHECK(describe_error(
            {400, {}, R"({"type":"invalid_data","message":")" + std::string(1000, 'm') + "\"}"})
            .size() < 400);
  CHECK(route_missing(
      {404, {}, "<pre>Cannot POST /admin/inventory-items/location-levels/batch</pre>"}));
  CHECK_FALSE(route_missing({404, {}, R"({"type":"not_found","message":"x"})"}));
  CHECK_FALSE(route_missing({400, {}, "x"}));
  CHECK(is_refusal(400));
  CHECK(is_refusal(404));
  CHECK_FALSE(is_refusal(401));
  CHECK_FALSE(is_refusal(500));
}

TEST_CASE(
    "a push walks the catalogue once, creates missing levels and updates the others in one batch") {
  Fixture f;
  f.medusa.items["iitem_a"] = {"A", 1};
  f.medusa.items["iitem_b"] = {"B", std::nullopt};
  f.serve();
  const auto results = f.push({{"A", 5}, {"B", -2}});
  for (const auto& r : results) CHECK(r.outcome == PushOutcome::confirmed);
  CHECK(f.medusa.items["iitem_a"].level == 5);
  CHECK(f.medusa.items["iitem_b"].level == 0);  // no negative stock in Medusa
  CHECK(f.count("GET", "/admin/inventory-items") == 1);
  CHECK(f.count("POST", "/admin/inventory-items/location-levels/batch") == 1);
  // The next push knows the level now exists: an update, no walk.
  f.serve();
  CHECK(f.push({{"B", 4}})[0].outcome == PushOutcome::confirmed);
  CHECK(f.count("GET", "/admin/inventory-items") == 1);
  CHECK(f.medusa.items["iitem_b"].level == 4);
}

TEST_CASE("one refused item is isolated: the others are set, it is rejected with Medusa's words") {
  Fixture f;
  for (int i = 0; i < 16; ++i)
    f.medusa.items["iitem_" + std::to_string(100 + i)] = {"S" + std::to_string(100 + i), 0};
  f.serve();
  // S107's item disappears after the walk: the batch is refused as a whole.
  std::vector<PushItem> batch;
  for (int i = 0; i < 16; ++i) batch.push_back({"S" + std::to_string(100 + i), i + 1});
  test::run_with_pool([&](asio::any_io_executor pool) -> asio::awaitable<void> {
    PushContext context{pool, "shop/1"};
    co_await f.store->prepare(context);
    f.medusa.items.erase("iitem_107");
    const auto results = co_await f.store->push(batch, context);
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (i == 7) {
        CHECK(results[i].outcome == PushOutcome::rejected);
        CHECK(results[i].message.find("not stocked at location") != std::string::npos);
        CHECK(results[i].message.find("no inventory item has this SKU") != std::string::npos);
      } else {
        CHECK(results[i].outcome == PushOutcome::confirmed);
      }
    }
  });
  CHECK(f.medusa.items["iitem_115"].level == 16);
  CHECK(f.count("POST", "/admin/inventory-items/location-levels/batch") <= 1 + 2 * 4 + 1);
}

TEST_CASE(
    "a level created in the admin since the walk: refused create, looked up, sent as update") {
  Fixture f;
  f.medusa.items["iitem_a"] = {"A", std::nullopt};
  f.medusa.items["iitem_b"] = {"B", 1};
  f.serve();
  test::run_with_pool([&](asio::any_io_executor pool) -> asio::awaitable<void> {
    PushContext context{pool, "shop/1"};
    co_await f.store->prepare(context);
    f.medusa.items["iitem_a"].level = 9;  // someone stocked it at our location
    const std::vector<PushItem> batch{{"A", 3}, {"B", 2}};
    const auto results = co_await f.store->push(batch, context);
    CHECK(results[0].outcome == PushOutcome::confirmed);
    CHECK(results[1].outcome == PushOutcome::confirmed);
  });
  CHECK(f.medusa.items["iitem_a"].level == 3);
}

TEST_CASE("an unknown SKU: looked up, rejected, remembered, no request for it the next time") {
  Fixture f;
  f.medusa.items["iitem_a"] = {"A", 1};
  f.serve();
  auto results = f.push({{"A", 2}, {"NOPE", 3}});
  CHECK(results[0].outcome == PushOutcome::confirmed);
  CHECK(results[1].outcome == PushOutcome::rejected);
  CHECK(results[1].message.find("no inventory item in Medusa has this SKU") != std::string::npos);
  const auto gets = f.count("GET", "/admin/inventory-items");
  CHECK(gets == 2);  // the walk, then the look-up
  f.serve();
  results = f.push({{"NOPE", 4}});
  CHECK(results[0].outcome == PushOutcome::rejected);
  CHECK(f.count("GET", "/admin/inventory-items") == gets);
}

TEST_CASE("a server without the batch route: found once by Express's 404, then per item") {
  Fixture f;
  f.medusa.batch_route = false;
  f.medusa.items["iitem_a"] = {"A", 1};
  f.medusa.items["iitem_b"] = {"B", std::nullopt};
  f.serve();
  auto results = f.push({{"A", 5}, {"B", 6}});
  for (const auto& r : results) CHECK(r.outcome == PushOutcome::confirmed);
  CHECK(f.medusa.items["iitem_a"].level == 5);
  CHECK(f.medusa.items["iitem_b"].level == 6);
  CHECK(f.count("POST", "/admin/inventory-items/location-levels/batch") == 1);
  CHECK(f.count("POST", "/admin/inventory-items/iitem_a/location-levels/sloc_01TEST") == 1);
  CHECK(f.count("POST", "/admin/inventory-items/iitem_b/location-levels") == 1);
  f.serve();
  results = f.push({{"A", 7}, {"B", 8}});
  CHECK(f.count("POST", "/admin/inventory-items/location-levels/batch") == 1);  // not asked again
  CHECK(f.medusa.items["iitem_b"].level == 8);
}

TEST_CASE("HTTP 401: the run ends naming api_key_file, the key in no message, no retry") {
  Fixture f;
  f.medusa.items["iitem_a"] = {"A", 1};
  write_file(f.dir / "key", "sk_revoked_0123456789\n");
  f.serve();
  try {
    f.push({{"A", 5}});
    FAIL("no StoreError");
  } catch (const StoreError& e) {
    const std::string what = e.what();
    CHECK_FALSE(e.retry_in_run());
    CHECK(what.find("api_key_file") != std::string::npos);
    CHECK(what.find("HTTP 401") != std::string::npos);
    CHECK(what.find("sk_revoked") == std::string::npos);
  }
  CHECK(f.fake->requests().size() == 1);
  CHECK(f.medusa.items["iitem_a"].level == 1);
}

TEST_CASE("the Authorization header is Basic with the key as user, over the configured root") {
  Fixture f;
  f.config.url = "https://medusa.test/shop";
  f.store = std::make_unique<MedusaStore>(f.config, StoreDeps{{}, {}, "shop"}, f.fake);
  f.fake->then_status(200, R"({"inventory_items":[],"count":0,"offset":0,"limit":1000})");
  f.fake->then_status(200, R"({"inventory_items":[],"count":0,"offset":0,"limit":1})");
  CHECK(f.push({{"A", 1}})[0].outcome == PushOutcome::rejected);
  const auto& r = f.fake->requests().at(0);
  CHECK(test::split_target(r.target).path == "/shop/admin/inventory-items");
  bool found = false;
  for (const auto& h : r.headers)
    if (h.name == "Authorization")
      found = h.value == "Basic " + net::base64(std::string(kKey) + ":");
  CHECK(found);
  CHECK(r.target.find(kKey) == std::string::npos);
}

TEST_CASE("max_batch: rounds of batch requests, each well under Medusa's 2 MB body limit") {
  Fixture f;
  CHECK(f.store->max_batch() % kBatchLimit == 0);
  std::vector<LevelWrite> writes(kBatchLimit,
                                 LevelWrite{"iitem_01JZZZZZZZZZZZZZZZZZZZZZZZ", 1234567, false});
  CHECK(batch_body(writes, "sloc_01JZZZZZZZZZZZZZZZZZZZZZZZ").size() < 2'000'000 / 10);
}

TEST_CASE(
    "429 with Retry-After is waited out, one past the retry budget ends the run saying when") {
  Fixture f;
  f.medusa.items["iitem_a"] = {"A", 1};
  f.fake->then_status(429, R"({"type":"too_many_requests","message":"slow down"})",
                      {{"Retry-After", "1"}});
  f.serve(2);
  const auto started = std::chrono::steady_clock::now();
  CHECK(f.push({{"A", 5}})[0].outcome == PushOutcome::confirmed);
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(900));
  CHECK(f.medusa.items["iitem_a"].level == 5);

  Fixture g;
  g.fake->then_status(503, "<html>maintenance</html>", {{"Retry-After", "600"}});
  try {
    g.push({{"A", 5}});
    FAIL("no StoreError");
  } catch (const StoreError& e) {
    CHECK_FALSE(e.retry_in_run());
    CHECK(std::string(e.what()).find("Medusa asked to come back at") != std::string::npos);
  }
  CHECK(g.fake->requests().size() == 1);
}

TEST_CASE("first walk: a page refused mid-walk leaves the checkpoint, the next run reads on") {
  Fixture f;
  f.catalogue(9500);  // steps: page 0 (the count), pages 1-4 at once, 5-8 at once, 9
  f.medusa.refuse_offset = 6000;
  f.serve(40);
  Progress progress;
  CHECK_THROWS_WITH_AS(f.prepare(&progress), doctest::Contains("page refused"), StoreError);
  CHECK(progress.done == 1);
  CHECK(progress.seen.front() == std::pair<std::uint64_t, std::uint64_t>{0, 0});
  CHECK(progress.seen.back() == std::pair<std::uint64_t, std::uint64_t>{5000, 9500});

  f.medusa.walk_offsets.clear();
  Progress again;
  f.prepare(&again);
  auto offsets = f.medusa.walk_offsets;
  std::sort(offsets.begin(), offsets.end());
  // Pages 0-4 were committed: not read again; the rest once each.
  CHECK(offsets == std::vector<std::size_t>{5000, 6000, 7000, 8000, 9000});
  CHECK(again.seen == std::vector<std::pair<std::uint64_t, std::uint64_t>>{
                          {5000, 0}, {6000, 9500}, {9500, 9500}});
  CHECK(again.done == 1);
  // Every item is mapped: a push of SKUs from every part of the walk needs no look-up.
  const auto gets = f.count("GET", "/admin/inventory-items");
  f.serve();
  const auto results = f.push({{"S00000", 1}, {"S04999", 2}, {"S05000", 3}, {"S09499", 4}});
  for (const auto& r : results) CHECK(r.outcome == PushOutcome::confirmed);
  CHECK(f.count("GET", "/admin/inventory-items") == gets);
  CHECK(f.medusa.items["iitem_09499"].level == 4);
}

TEST_CASE("first walk: a stop is honoured between waves, the committed wave kept") {
  Fixture f;
  f.catalogue(6500);
  auto stop = std::make_shared<std::atomic<bool>>(false);
  // `beectl pause` while pages 1-4 are read.
  f.medusa.on_page = [&](std::size_t offset) {
    if (offset == 1000) stop->store(true);
  };
  f.serve(40);
  CHECK_THROWS_WITH_AS(f.prepare(nullptr, stop),
                       "stopped during the Medusa catalogue walk (it resumes on the next run)",
                       StoreError);
  CHECK(f.medusa.walk_offsets.size() == 5);  // pages 0-4: nothing after the stop
  stop->store(false);
  f.medusa.walk_offsets.clear();
  f.prepare(nullptr, stop);
  CHECK(f.medusa.walk_offsets == std::vector<std::size_t>{5000, 6000});
  f.serve();
  CHECK(f.push({{"S06499", 7}})[0].outcome == PushOutcome::confirmed);
  CHECK(f.count("GET", "/admin/inventory-items") == 7);  // no look-up
}

TEST_CASE("a refresh of a complete map walks into memory: a failed one keeps the old map") {
  Fixture f;
  f.config.catalogue_refresh = std::chrono::seconds(0);
  f.store = std::make_unique<MedusaStore>(f.config, StoreDeps{{}, {}, "shop"}, f.fake);
  f.catalogue(2500);
  f.serve(40);
  f.prepare();
  f.medusa.walk_offsets.clear();
  f.medusa.refuse_offset = 2000;
  f.prepare();  // the refresh fails at its last page: the old map serves
  CHECK(f.medusa.walk_offsets.size() == 3);
  const auto gets = f.count("GET", "/admin/inventory-items");
  f.medusa.refuse_offset = 0;  // the next refresh fails at once: the push goes on with the map
  CHECK(f.push({{"S02499", 5}})[0].outcome == PushOutcome::confirmed);
  CHECK(f.count("GET", "/admin/inventory-items") == gets + 1);
  CHECK(f.medusa.items["iitem_02499"].level == 5);
}

TEST_CASE("first walk: a kill between the last wave's commit and the walk's end reads no page") {
  Fixture f;
  state::InventoryDb db{f.dir.path() / "state"};
  const auto caches = state::lmdb_store_id_caches(db, "shop");
  {
    // What the last step of a walk left: its entries, and a checkpoint with no position.
    auto cache = caches("medusa " + f.config.url + " " + f.config.location_id);
    cache->begin_walk(encode_walk_checkpoint(kWalkKind, 0, "0"));
    cache->walk_step({{"A", encode_item({"iitem_a", true})}},
                     encode_walk_checkpoint(kWalkKind, 1, ""));
  }
  f.store = std::make_unique<MedusaStore>(f.config, StoreDeps{{}, caches, "shop"}, f.fake);
  f.medusa.items["iitem_a"] = {"A", 1};
  f.serve(5);
  CHECK(f.push({{"A", 4}})[0].outcome == PushOutcome::confirmed);
  CHECK(f.medusa.walk_offsets.empty());
  CHECK(f.medusa.items["iitem_a"].level == 4);
}
