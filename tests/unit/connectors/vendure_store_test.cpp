// The Vendure connector's pure logic (documents, error classes, login answers), its client
// (login header, one re-login, API key, redaction) and the store over a small model of the
// Admin API (walk, unknown SKUs, a refused variant isolated). The real Vendure 3 runs in
// tests/integration/test_store_vendure.py.
#include "connectors/store/vendure/vendure_store.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "config/config_loader.hpp"
#include "connectors/store/memory_store_id_cache.hpp"
#include "connectors/store/resumable_walk.hpp"
#include "connectors/store/vendure/vendure_client.hpp"
#include "connectors/store/vendure/vendure_graphql.hpp"
#include "connectors/store/vendure/vendure_id_index.hpp"
#include "fake_http_session.hpp"
#include "state/inventory_db.hpp"
#include "state/lmdb_store_id_cache.hpp"
#include "test_support.hpp"

using namespace pb;
using namespace pb::connectors;
using namespace pb::connectors::vendure;
namespace json = boost::json;
namespace asio = boost::asio;
using pb::test::FakeHttpSession;
using pb::test::ScratchDir;

namespace {

constexpr std::string_view kPassword = "pw-SECRET-0123";
constexpr std::string_view kToken = "tok-SESSION-4567";

std::string header_of(const net::Request& r, std::string_view name) {
  for (const auto& h : r.headers)
    if (h.name == name) return h.value;
  return {};
}

json::object body_of(const net::Request& r) {
  return json::parse(r.body).as_object();
}

net::Response answer(json::value v, std::vector<net::Header> headers = {}) {
  return net::Response{200, std::move(headers), json::serialize(v)};
}

json::value error(std::string_view code, std::string_view message) {
  return json::object{
      {"errors", json::array{json::object{{"message", message},
                                          {"extensions", json::object{{"code", code}}}}}},
      {"data", nullptr}};
}

// A Vendure Admin API as the connector sees it: sessions from login, variants by id with
// SKUs, stock on hand, and updateProductVariants as one transaction.
struct MiniVendure {
  std::map<std::string, std::string> sku_of;  // variant id -> sku
  std::map<std::string, std::int64_t> stock;  // variant id -> stock on hand
  std::string session;                        // the valid bearer token; empty: none
  int logins = 0;
  int updates = 0;
  std::vector<std::int64_t> skips;            // the catalogue pages asked (by skip)
  std::optional<std::int64_t> fail_skip;      // that page fails once
  std::function<void(std::int64_t)> on_page;  // called for each catalogue page asked

  net::Response serve(const net::Request& r) {
    const auto body = body_of(r);
    const std::string query(body.at("query").as_string());
    const auto& vars = body.at("variables").as_object();
    if (query.find("login(") != std::string::npos) {
      ++logins;
      if (vars.at("password").as_string() != kPassword)
        return answer(json::object{
            {"data", json::object{{"login", json::object{{"__typename", "InvalidCredentialsError"},
                                                         {"errorCode", "INVALID_CREDENTIALS_ERROR"},
                                                         {"message", "bad credentials"}}}}}});
      session = std::string(kToken) + std::to_string(logins);
      return answer(
          json::object{
              {"data", json::object{{"login", json::object{{"__typename", "CurrentUser"}}}}}},
          {{"vendure-auth-token", session}});
    }
    if (query.find("productVariants(") != std::string::npos) return variants(vars);
    if (header_of(r, "Authorization") != "Bearer " + session)
      return answer(error("FORBIDDEN", "You are not currently authorized to perform this action"));
    ++updates;
    const auto& input = vars.at("input").as_array();
    for (const auto& v : input) {
      const std::string id(v.at("id").as_string());
      if (!sku_of.contains(id))
        return answer(error("ENTITY_NOT_FOUND", "No ProductVariant with the id \"" + id + "\""));
      if (v.at("stockOnHand").as_int64() < 0)
        return answer(error("USER_INPUT_ERROR", "stockOnHand cannot be a negative value"));
    }
    json::array out;
    for (const auto& v : input) {
      stock[std::string(v.at("id").as_string())] = v.at("stockOnHand").as_int64();
      out.push_back(json::object{{"id", v.at("id")}});
    }
    return answer(json::object{{"data", json::object{{"updateProductVariants", out}}}});
  }

  net::Response variants(const json::object& vars) {
    std::vector<std::string> wanted;
    if (const auto* skus = vars.if_contains("skus"))
      for (const auto& s : skus->as_array()) wanted.emplace_back(s.as_string());
    json::array items;
    std::size_t total = 0;
    const auto skip = vars.contains("skip") ? vars.at("skip").as_int64() : 0;
    const auto take = vars.at("take").as_int64();
    if (vars.contains("skip")) {
      skips.push_back(skip);
      if (on_page) on_page(skip);
      if (fail_skip == skip) {
        fail_skip.reset();
        return answer(error("INTERNAL_SERVER_ERROR", "SQLITE_BUSY: database is locked"));
      }
    }
    for (const auto& [id, sku] : sku_of) {
      if (!vars.contains("skip") && std::find(wanted.begin(), wanted.end(), sku) == wanted.end())
        continue;
      const auto at = static_cast<std::int64_t>(total++);
      if (at >= skip && at < skip + take) items.push_back(json::object{{"id", id}, {"sku", sku}});
    }
    return answer(json::object{
        {"data", json::object{
                     {"productVariants", json::object{{"items", items}, {"totalItems", total}}}}}});
  }
};

asio::awaitable<std::vector<PushResult>> prepare_then_push(Store& store,
                                                           std::vector<PushItem> batch,
                                                           asio::any_io_executor pool) {
  PushContext context{pool, "shop/1"};
  co_await store.prepare(context);
  co_return co_await store.push(std::move(batch), context);
}

struct Fixture {
  ScratchDir dir;
  state::InventoryDb db{dir.path() / "state"};
  std::shared_ptr<FakeHttpSession> fake = std::make_shared<FakeHttpSession>();
  MiniVendure vendure;
  config::VendureStoreConfig config;

  Fixture() {
    test::write_file(dir / "pw", std::string(kPassword) + "\n");
    config.url = "https://shop.test/admin-api";
    config.username = "superadmin";
    config.password_file = dir / "pw";
    for (int i = 1; i <= 600; ++i) {
      vendure.sku_of[std::to_string(i)] = "S-" + std::to_string(1000 + i);
      vendure.stock[std::to_string(i)] = 0;
    }
  }
  std::unique_ptr<VendureStore> store() {
    return std::make_unique<VendureStore>(
        config, StoreDeps{{}, state::lmdb_store_id_caches(db, "shop"), "shop"}, fake);
  }
  void serve(int n = 200) {
    for (int i = 0; i < n; ++i)
      fake->then([this](const net::Request& r) { return vendure.serve(r); });
  }
  // prepare() alone, reporting to `progress` and stopping when `stop` is set.
  void prepare(Store& store, MappingProgress* progress = nullptr,
               std::shared_ptr<std::atomic<bool>> stop = nullptr) {
    test::run_with_pool([&](asio::any_io_executor pool) -> asio::awaitable<void> {
      PushContext context{pool, "shop/1", progress, stop};
      co_await store.prepare(context);
    });
  }
  // `n` variants "v00001"... (ids sort as numbers do) with SKUs "S00001"...
  void catalogue(int n) {
    vendure.sku_of.clear();
    vendure.stock.clear();
    for (int i = 1; i <= n; ++i) {
      const auto k = std::to_string(100000 + i).substr(1);
      vendure.sku_of["v" + k] = "S" + k;
      vendure.stock["v" + k] = 0;
    }
  }
  std::vector<PushResult> push(Store& store, std::vector<PushItem> batch) {
    return test::run_with_pool([&](asio::any_io_executor pool) {
      return prepare_then_push(store, std::move(batch), pool);
    });
  }
};

using Progress = test::RecordingProgress;

std::string store_error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const StoreError& e) {
    CHECK_FALSE(e.retry_in_run());
    return e.what();
  }
  FAIL("no StoreError");
  return {};
}

}  // namespace

TEST_CASE("vendure: the stock document sets stockOnHand, or stockLevels at a location") {
  const std::vector<StockUpdate> updates{{"12", 7}, {"57", 0}};
  auto plain = json::parse(update_stock_body(updates, "")).as_object();
  CHECK(plain.at("query").as_string().find("updateProductVariants") != json::string::npos);
  CHECK(json::serialize(plain.at("variables")) ==
        R"({"input":[{"id":"12","stockOnHand":7},{"id":"57","stockOnHand":0}]})");
  auto located = json::parse(update_stock_body(updates, "3")).as_object();
  CHECK(json::serialize(located.at("variables").at("input").at(0)) ==
        R"({"id":"12","stockLevels":[{"stockLocationId":"3","stockOnHand":7}]})");
  // 250 variants stay far below the ~100 KiB body Vendure refuses with HTTP 500.
  std::vector<StockUpdate> many(kVariantsPerCall, StockUpdate{"1234567", 1000000});
  CHECK(update_stock_body(many, "12").size() < 40 * 1024);
}

TEST_CASE("vendure: pages ask only id and sku, sorted, at most 1,000") {
  auto page = json::parse(variants_page_body(2000, kPageSize)).as_object();
  CHECK(json::serialize(page.at("variables")) == R"({"skip":2000,"take":1000})");
  const std::string query(page.at("query").as_string());
  CHECK(query.find("items { id sku }") != std::string::npos);
  CHECK(query.find("sort: {id: ASC}") != std::string::npos);
  const std::vector<std::string> skus{"A", "B\"quoted"};
  auto lookup = json::parse(variants_by_sku_body(skus)).as_object();
  CHECK(json::serialize(lookup.at("variables").at("skus")) == R"(["A","B\"quoted"])");
}

TEST_CASE("vendure: errors are classified by extensions.code") {
  CHECK(classify_errors(json::parse(R"({"data":{"x":1}})")).kind == ErrorClass::none);
  const auto forbidden = classify_errors(error("FORBIDDEN", "not authorized"));
  CHECK(forbidden.kind == ErrorClass::forbidden);
  const auto missing = classify_errors(error("ENTITY_NOT_FOUND", "No ProductVariant"));
  CHECK(missing.kind == ErrorClass::refused);
  CHECK(missing.code == "ENTITY_NOT_FOUND");
  CHECK(missing.message == "No ProductVariant");
  // Validation errors come without data (and HTTP 400), still a refusal of the request.
  CHECK(classify_errors(json::parse(R"({"errors":[{"message":"Int cannot represent"}]})")).kind ==
        ErrorClass::refused);
  CHECK(classify_errors(json::parse("[1]")).kind == ErrorClass::refused);
  const auto long_one = classify_errors(error("X", std::string(1000, 'm')));
  CHECK(long_one.message.size() < 310);
}

TEST_CASE("vendure: login results and variant pages are read") {
  const auto ok = read_login(json::parse(R"({"data":{"login":{"__typename":"CurrentUser"}}})"));
  REQUIRE(ok);
  CHECK(ok->ok);
  const auto refused = read_login(json::parse(
      R"({"data":{"login":{"__typename":"InvalidCredentialsError","errorCode":"INVALID_CREDENTIALS_ERROR","message":"The provided credentials are invalid"}}})"));
  REQUIRE(refused);
  CHECK_FALSE(refused->ok);
  CHECK(refused->error_code == "INVALID_CREDENTIALS_ERROR");
  CHECK_FALSE(read_login(error("FORBIDDEN", "x")));
  const auto page = read_variants(json::parse(
      R"({"data":{"productVariants":{"items":[{"id":"1","sku":"A"},{"id":2,"sku":""}],"totalItems":5}}})"));
  REQUIRE(page);
  CHECK(page->total == 5);
  REQUIRE(page->variants.size() == 1);  // a variant without SKU is not mapped
  CHECK(page->variants[0] == std::pair<std::string, std::string>{"A", "1"});
  CHECK_FALSE(
      read_variants(json::parse(R"({"data":{"productVariants":{"items":[{"sku":"A"}]}}})")));
}

TEST_CASE("vendure: a full push walks once, then sends 250 variants a call") {
  Fixture f;
  f.serve();
  auto store = f.store();
  std::vector<PushItem> batch;
  for (int i = 1; i <= 600; ++i) batch.push_back({"S-" + std::to_string(1000 + i), i});
  std::sort(batch.begin(), batch.end(), [](auto& a, auto& b) { return a.sku < b.sku; });
  const auto results = f.push(*store, batch);
  for (const auto& r : results) CHECK(r.outcome == PushOutcome::confirmed);
  CHECK(f.vendure.stock["1"] == 1);
  CHECK(f.vendure.stock["600"] == 600);
  CHECK(f.vendure.logins == 1);
  CHECK(f.vendure.updates == 3);
  // login, one page of variants, three calls; the bearer token on each authorised call.
  REQUIRE(f.fake->requests().size() == 5);
  CHECK(header_of(f.fake->requests()[0], "Authorization").empty());
  CHECK(header_of(f.fake->requests()[2], "Authorization") == "Bearer " + f.vendure.session);
}

TEST_CASE("vendure: an expired session is renewed once - a wrong password names the file") {
  Fixture f;
  f.serve();
  auto store = f.store();
  std::vector<PushItem> one{{"S-1001", 4}};
  f.push(*store, one);
  f.vendure.session = "expired-elsewhere";  // Vendure forgot the session
  one[0].quantity = 5;
  CHECK(f.push(*store, one)[0].outcome == PushOutcome::confirmed);
  CHECK(f.vendure.logins == 2);
  CHECK(f.vendure.stock["1"] == 5);

  test::write_file(f.dir / "pw", "wrong-password\n");
  f.vendure.session = "expired-again";
  const auto message = store_error_message([&] { f.push(*store, one); });
  CHECK(message.find("password_file") != std::string::npos);
  CHECK(message.find("INVALID_CREDENTIALS_ERROR") != std::string::npos);
  CHECK(message.find("wrong-password") == std::string::npos);
}

TEST_CASE("vendure: an API key goes in vendure-api-key - a refused one names api_key_file") {
  Fixture f;
  test::write_file(f.dir / "key", "key-SECRET-89abcdef\n");
  f.config.username.clear();
  f.config.password_file.clear();
  f.config.api_key_file = f.dir / "key";
  f.config.channel_token = "eu-channel";
  f.serve();
  auto store = f.store();
  std::vector<PushItem> one{{"S-1001", 4}};
  const auto message = store_error_message([&] { f.push(*store, one); });
  CHECK(message.find("api_key_file") != std::string::npos);
  CHECK(message.find("key-SECRET") == std::string::npos);
  CHECK(f.vendure.logins == 0);
  const auto& last = f.fake->requests().back();
  CHECK(header_of(last, "vendure-api-key") == "key-SECRET-89abcdef");
  CHECK(header_of(last, "vendure-token") == "eu-channel");
}

TEST_CASE("vendure: a refused variant is isolated - unknown SKUs are remembered") {
  Fixture f;
  f.serve();
  auto store = f.store();
  std::vector<PushItem> batch{{"NOPE", 1}, {"S-1001", 3}, {"S-1002", -2}, {"S-1003", 8}};
  auto results = f.push(*store, batch);
  CHECK(results[0].outcome == PushOutcome::rejected);
  CHECK(results[0].message.find("not in the Vendure catalogue") != std::string::npos);
  CHECK(results[1].outcome == PushOutcome::confirmed);
  CHECK(results[2].outcome == PushOutcome::rejected);
  CHECK(results[2].message.find("negative") != std::string::npos);
  CHECK(results[3].outcome == PushOutcome::confirmed);
  CHECK(f.vendure.stock["3"] == 8);

  // The unknown SKU is not asked for again; a deleted variant is refused and forgotten.
  f.vendure.sku_of.erase("3");
  const auto before = f.fake->requests().size();
  std::vector<PushItem> again{{"NOPE", 1}, {"S-1003", 9}};
  results = f.push(*store, again);
  CHECK(results[0].outcome == PushOutcome::rejected);
  CHECK(results[1].outcome == PushOutcome::rejected);
  CHECK(results[1].message.find("ENTITY_NOT_FOUND") != std::string::npos);
  for (auto i = before; i < f.fake->requests().size(); ++i)
    CHECK(body_of(f.fake->requests()[i]).at("query").as_string().find("VariantsBySku") ==
          json::string::npos);
}

namespace {

// The store section's keys start on line 5.
std::string config_error(std::string_view store_lines) {
  const auto text =
      "connections:\n"
      "  shop:\n"
      "    warehouse: {type: csv, path: /srv/feeds/shop}\n"
      "    store:\n" +
      std::string(store_lines);
  try {
    config::parse_config(text, "pb.yaml", "/etc/packagebee");
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("vendure: the store section is read and checked") {
  const auto config = config::parse_config(
      "connections:\n  shop:\n    warehouse: {type: csv, path: /srv/feeds/shop}\n    store:\n"
      "      type: vendure\n      url: https://shop.example.com/admin-api/\n"
      "      username: sync\n      password_file: secrets/vendure\n"
      "      channel_token: eu\n      stock_location_id: \"2\"\n",
      "pb.yaml", "/etc/packagebee");
  const auto& v = std::get<config::VendureStoreConfig>(config.connections[0].store);
  CHECK(v.url == "https://shop.example.com/admin-api");
  CHECK(v.password_file == "/etc/packagebee/secrets/vendure");
  CHECK(v.channel_token == "eu");
  CHECK(v.stock_location_id == "2");
  CHECK_FALSE(v.catalogue_refresh);

  CHECK(config_error("      type: vendure\n      url: https://s.test/admin-api\n"
                     "      username: u\n      password_file: p\n      api_key_file: k\n") ==
        "pb.yaml:9:21: connections.shop.store.api_key_file: give either api_key_file or "
        "username and password_file, not both");
  CHECK(config_error("      type: vendure\n      url: https://s.test/admin-api\n")
            .find("store.password_file: missing credentials") != std::string::npos);
  CHECK(config_error("      type: vendure\n      url: https://s.test/admin-api\n"
                     "      username: u\n")
            .find("username needs password_file") != std::string::npos);
  CHECK(config_error("      type: vendure\n      url: http://shop.example.com/admin-api\n"
                     "      api_key_file: k\n")
            .find("pb.yaml:6:") == 0);
}

TEST_CASE("vendure: a 503 with Retry-After is waited out and the same call sent again") {
  Fixture f;
  auto store = f.store();
  f.serve(2);  // login, walk
  f.fake->then_status(503, "busy", {{"Retry-After", "1"}});
  f.serve(1);
  const auto started = std::chrono::steady_clock::now();
  std::vector<PushItem> one{{"S-1001", 6}};
  CHECK(f.push(*store, one)[0].outcome == PushOutcome::confirmed);
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(900));
  CHECK(f.vendure.stock["1"] == 6);
  const auto& requests = f.fake->requests();
  REQUIRE(requests.size() == 4);
  CHECK(requests[2].body == requests[3].body);
}

TEST_CASE("vendure: a first walk cut by a failure goes on after a restart, a split SKU whole") {
  Fixture f;
  f.catalogue(2500);
  // Two variants share a SKU, the last of page 1 and the first of page 2.
  f.vendure.sku_of["v01000"] = "SPLIT";
  f.vendure.sku_of["v01001"] = "SPLIT";
  f.vendure.fail_skip = 2000;
  f.serve(20);
  {
    auto store = f.store();
    Progress progress;
    const auto message = store_error_message([&] { f.prepare(*store, &progress); });
    CHECK(message.find("SQLITE_BUSY") != std::string::npos);
    CHECK(f.vendure.skips == std::vector<std::int64_t>{0, 1000, 2000});
    CHECK(progress.seen ==
          std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0, 0}, {1000, 2500}, {2000, 2500}});
    CHECK(progress.done == 1);
  }
  // beed restarts: a new store on the same LMDB goes on from page 3.
  f.vendure.skips.clear();
  auto store = f.store();
  Progress progress;
  f.prepare(*store, &progress);
  CHECK(f.vendure.skips == std::vector<std::int64_t>{2000});
  CHECK(progress.seen ==
        std::vector<std::pair<std::uint64_t, std::uint64_t>>{{2000, 0}, {2500, 2500}});
  const auto requests = f.fake->requests().size();
  const auto results = f.push(*store, {{"SPLIT", 6}, {"S00001", 1}, {"S02500", 9}});
  for (const auto& r : results) CHECK(r.outcome == PushOutcome::confirmed);
  CHECK(f.vendure.stock["v01000"] == 6);  // both variants of the split SKU
  CHECK(f.vendure.stock["v01001"] == 6);
  CHECK(f.vendure.stock["v02500"] == 9);
  CHECK(f.fake->requests().size() == requests + 1);  // one update, no walk, no look-up
}

TEST_CASE("vendure: a stop is honoured between pages, the next run reads the rest") {
  Fixture f;
  f.catalogue(3500);
  auto stop = std::make_shared<std::atomic<bool>>(false);
  f.vendure.on_page = [&](std::int64_t skip) {
    if (skip == 1000) stop->store(true);  // `beectl pause` while page 2 is read
  };
  f.serve(20);
  auto store = f.store();
  const auto message = store_error_message([&] { f.prepare(*store, nullptr, stop); });
  CHECK(message.find("stopped during the Vendure catalogue walk") != std::string::npos);
  CHECK(f.vendure.skips == std::vector<std::int64_t>{0, 1000});
  stop->store(false);
  f.vendure.skips.clear();
  f.prepare(*store, nullptr, stop);
  CHECK(f.vendure.skips == std::vector<std::int64_t>{2000, 3000});
  CHECK(f.push(*store, {{"S01500", 4}})[0].outcome == PushOutcome::confirmed);
  CHECK(f.vendure.stock["v01500"] == 4);
}

TEST_CASE("vendure: the id merge of a walk step keeps the ids an earlier page committed") {
  MemoryStoreIdCache cache;
  cache.put({{"A", "1,2"}, {"B", "3"}});
  std::vector<std::pair<std::string, std::string>> entries{{"A", "2,7"}, {"C", "9"}};
  merge_with_cached(cache, entries);
  CHECK(entries == std::vector<std::pair<std::string, std::string>>{{"A", "1,2,7"}, {"C", "9"}});
}

TEST_CASE("vendure: a kill between the last page's commit and the walk's end reads no page") {
  Fixture f;
  {
    // What the last step of a walk left: its entries, and a checkpoint with no position.
    auto cache = state::lmdb_store_id_caches(f.db, "shop")("vendure " + f.config.url + "  ");
    cache->begin_walk(encode_walk_checkpoint("vendure-variants", 0, "0"));
    cache->walk_step({{"S-1001", "1"}}, encode_walk_checkpoint("vendure-variants", 600, ""));
  }
  f.serve(5);
  auto store = f.store();
  const auto results = f.push(*store, {{"S-1001", 3}});
  CHECK(results[0].outcome == PushOutcome::confirmed);
  CHECK(f.vendure.skips.empty());
  CHECK(f.vendure.stock["1"] == 3);
}
