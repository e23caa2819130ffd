// The WooCommerce store connector against a scripted session: a small in-test model of
// the REST API (MiniWoo) answers each request, so the tests check what the connector
// asks for and what it makes of the answers. The rules themselves (paging, auth, batch
// limits) are checked live against tests/emulators/woocommerce through the real beed.
#include "connectors/store/woocommerce/woocommerce_store.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "connectors/store/woocommerce/woocommerce_batch.hpp"
#include "connectors/store/woocommerce/woocommerce_catalogue.hpp"
#include "connectors/store/woocommerce/woocommerce_ids.hpp"
#include "fake_http_session.hpp"
#include "request_target.hpp"
#include "state/inventory_db.hpp"
#include "state/lmdb_store_id_cache.hpp"
#include "test_support.hpp"

using namespace pb;
using namespace pb::connectors;
using pb::state::LmdbStoreIdCache;
namespace asio = boost::asio;
namespace json = boost::json;
using pb::test::ScratchDir;
using pb::test::write_file;

namespace {

constexpr std::string_view kRoot = "/wp-json/wc/v3/";

struct Target {
  std::string method;
  std::string path;  // below the API root
  std::map<std::string, std::string> query;
};

Target split(const net::Request& request) {
  auto split = pb::test::split_target(request.target);
  REQUIRE(split.path.substr(0, kRoot.size()) == kRoot);
  return Target{request.method, split.path.substr(kRoot.size()), std::move(split.query)};
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t from = 0;
  for (auto comma = s.find(','); comma != std::string::npos; comma = s.find(',', from)) {
    out.push_back(s.substr(from, comma - from));
    from = comma + 1;
  }
  out.push_back(s.substr(from));
  return out;
}

// A WooCommerce store small enough to reason about: products, variations and stock.
struct MiniWoo {
  struct Product {
    std::string sku;
    std::string type = "simple";
  };
  struct Variation {
    std::uint64_t parent = 0;
    std::string sku;
  };
  std::map<std::uint64_t, Product> products;
  std::map<std::uint64_t, Variation> variations;
  std::map<std::uint64_t, Quantity> stock;
  // Per-item errors to answer for these ids: code and data.status.
  std::map<std::uint64_t, std::pair<std::string, int>> item_errors;
  // Ids whose update is answered with this quantity instead of the one sent.
  std::map<std::uint64_t, json::value> kept_quantity;

  void simple(std::uint64_t id, std::string sku) { products[id] = {std::move(sku), "simple"}; }
  void variable(std::uint64_t id, std::string sku, std::uint64_t first, std::size_t count) {
    products[id] = {std::move(sku), "variable"};
    for (std::size_t i = 0; i < count; ++i)
      variations[first + i] = {id, "VAR-" + std::to_string(id) + "-" + std::to_string(i + 1)};
  }

  static net::Response ok(const json::value& body, std::vector<net::Header> headers = {}) {
    return net::Response{200, std::move(headers), json::serialize(body)};
  }

  static net::Response page(const json::array& all, const Target& t) {
    const auto per_page = std::stoul(t.query.at("per_page"));
    const auto n = t.query.count("page") ? std::stoul(t.query.at("page")) : 1;
    json::array chunk;
    for (std::size_t i = (n - 1) * per_page; i < all.size() && i < n * per_page; ++i)
      chunk.push_back(all[i]);
    const auto pages = (all.size() + per_page - 1) / per_page;
    return ok(chunk, {{"X-WP-Total", std::to_string(all.size())},
                      {"X-WP-TotalPages", std::to_string(pages)}});
  }

  json::object product_view(std::uint64_t id) const {
    const auto& p = products.at(id);
    json::array vars;
    for (const auto& [vid, v] : variations)
      if (v.parent == id) vars.push_back(vid);
    return {{"id", id},       {"sku", p.sku},       {"type", p.type},
            {"parent_id", 0}, {"variations", vars}, {"name", "Product " + std::to_string(id)}};
  }

  net::Response answer(const net::Request& request) {
    const auto t = split(request);
    if (t.method == "GET" && t.path == "products") {
      std::set<std::string> wanted;
      if (t.query.count("sku"))
        for (const auto& s : split_commas(t.query.at("sku"))) wanted.insert(s);
      json::array all;
      for (const auto& [id, p] : products)
        if (wanted.empty() || wanted.count(p.sku)) all.push_back(product_view(id));
      return page(all, t);
    }
    if (t.method == "GET" && t.path.ends_with("/variations")) {
      const auto parent = std::stoull(t.path.substr(9));
      json::array all;
      for (const auto& [id, v] : variations)
        if (v.parent == parent)
          all.push_back(json::object{{"id", id}, {"sku", v.sku}, {"parent_id", parent}});
      return page(all, t);
    }
    if (t.method == "POST" && t.path.ends_with("batch")) {
      const std::uint64_t parent = t.path == "products/batch" ? 0 : std::stoull(t.path.substr(9));
      const auto body = json::parse(request.body).as_object();
      json::array answers;
      for (const auto& item : body.at("update").as_array()) {
        const auto id = item.at("id").to_number<std::uint64_t>();
        const auto quantity = item.at("stock_quantity").to_number<Quantity>();
        const bool known = parent == 0
                               ? products.count(id) > 0
                               : variations.count(id) > 0 && variations.at(id).parent == parent;
        if (!known) {
          answers.push_back(json::object{
              {"id", id},
              {"error",
               {{"code", parent == 0 ? "woocommerce_rest_product_invalid_id"
                                     : "woocommerce_rest_product_variation_invalid_id"},
                {"message", "Invalid ID."},
                {"data", {{"status", 400}}}}}});
        } else if (item_errors.count(id)) {
          const auto& [code, status] = item_errors.at(id);
          answers.push_back(json::object{
              {"id", id},
              {"error",
               {{"code", code}, {"message", "Refused."}, {"data", {{"status", status}}}}}});
        } else {
          stock[id] = quantity;
          json::value held = quantity;
          if (kept_quantity.count(id)) held = kept_quantity.at(id);
          answers.push_back(
              json::object{{"id", id}, {"stock_quantity", held}, {"manage_stock", true}});
        }
      }
      return ok(json::object{{"update", answers}});
    }
    return net::Response{
        404, {}, R"({"code":"rest_no_route","message":"No route.","data":{"status":404}})"};
  }
};

// Delays every exchange, so that concurrent requests overlap; counts how many do.
class SlowSession final : public net::HttpSession {
 public:
  SlowSession(std::shared_ptr<net::HttpSession> inner, std::chrono::milliseconds delay)
      : inner_(std::move(inner)), delay_(delay) {}

  asio::awaitable<net::Response> send(net::Request request) override {
    ++in_flight_;
    most_ = std::max(most_, in_flight_);
    asio::steady_timer timer(co_await asio::this_coro::executor, delay_);
    co_await timer.async_wait(asio::use_awaitable);
    --in_flight_;
    co_return co_await inner_->send(std::move(request));
  }
  std::string origin() const override { return inner_->origin(); }
  std::size_t most_in_flight() const { return most_; }

 private:
  std::shared_ptr<net::HttpSession> inner_;
  std::chrono::milliseconds delay_;
  std::size_t in_flight_ = 0;
  std::size_t most_ = 0;
};

// What the store talks to: whichever FakeHttpSession the fixture holds now, so that a
// test can start a fresh script (and request list) between runs of one store.
class ForwardingSession final : public net::HttpSession {
 public:
  explicit ForwardingSession(const std::shared_ptr<test::FakeHttpSession>& target)
      : target_(target) {}
  asio::awaitable<net::Response> send(net::Request request) override {
    auto target = target_;  // the fixture may swap it while this request waits
    co_return co_await target->send(std::move(request));
  }
  std::string origin() const override { return target_->origin(); }

 private:
  const std::shared_ptr<test::FakeHttpSession>& target_;
};

asio::awaitable<std::vector<PushResult>> prepare_then_push(Store& store,
                                                           std::vector<PushItem> batch,
                                                           asio::any_io_executor pool) {
  PushContext context{pool, "shop/1"};
  co_await store.prepare(context);
  co_return co_await store.push(std::move(batch), context);
}

asio::awaitable<void> prepare_only(Store& store, asio::any_io_executor pool) {
  PushContext context{pool, "shop/1"};
  co_await store.prepare(context);
}

struct Fixture {
  ScratchDir dir;
  state::InventoryDb db{dir.path() / "state"};
  std::shared_ptr<test::FakeHttpSession> fake = std::make_shared<test::FakeHttpSession>();
  std::shared_ptr<net::HttpSession> forward = std::make_shared<ForwardingSession>(fake);
  MiniWoo woo;
  config::WooCommerceStoreConfig config;

  Fixture() {
    write_file(dir / "ck", "ck_test\n");
    write_file(dir / "cs", "cs_test\n");
    config.url = "https://shop.test";
    config.consumer_key_file = dir / "ck";
    config.consumer_secret_file = dir / "cs";
  }

  std::unique_ptr<WooCommerceStore> store(std::shared_ptr<net::HttpSession> session = nullptr) {
    return std::make_unique<WooCommerceStore>(
        config, StoreDeps{{}, state::lmdb_store_id_caches(db, "shop"), "shop"},
        session ? session : forward);
  }

  // Answers the next `n` requests from the model.
  void serve(std::size_t n = 500) {
    for (std::size_t i = 0; i < n; ++i)
      fake->then([this](const net::Request& r) { return woo.answer(r); });
  }

  std::vector<PushResult> push(Store& store, std::vector<PushItem> batch) {
    return test::run_with_pool([&](asio::any_io_executor pool) {
      return prepare_then_push(store, std::move(batch), pool);
    });
  }
  void prepare(Store& store) {
    test::run_with_pool([&](asio::any_io_executor pool) { return prepare_only(store, pool); });
  }

  std::vector<Target> requests(std::string_view method = {}) const {
    std::vector<Target> out;
    for (const auto& r : fake->requests())
      if (method.empty() || r.method == method) out.push_back(split(r));
    return out;
  }
  std::size_t count(std::string_view method, std::string_view path_suffix = {}) const {
    std::size_t n = 0;
    for (const auto& t : requests(method))
      if (t.path.ends_with(path_suffix)) ++n;
    return n;
  }
  // A fresh script and request list; the stores made so far follow.
  void reset_requests() { fake = std::make_shared<test::FakeHttpSession>(); }
};

std::string store_error_message(const std::function<void()>& f, bool* retry_in_run = nullptr) {
  try {
    f();
  } catch (const StoreError& e) {
    if (retry_in_run != nullptr) *retry_in_run = e.retry_in_run();
    return e.what();
  }
  FAIL("no StoreError");
  return {};
}

}  // namespace

TEST_CASE("ids: encoded as ID and PARENT/ID, several for a shared SKU, junk is not decoded") {
  const std::vector<WooTarget> targets{{0, 12}, {40, 41}};
  CHECK(encode_targets(targets) == "12,40/41");
  CHECK(decode_targets("12,40/41") == targets);
  CHECK(decode_targets("7") == std::vector<WooTarget>{{0, 7}});
  CHECK_FALSE(decode_targets(""));
  CHECK_FALSE(decode_targets("12,"));
  CHECK_FALSE(decode_targets("a/1"));
  CHECK_FALSE(decode_targets("0"));
  CHECK_FALSE(decode_targets("1/2/3"));
}

TEST_CASE("batches: grouped by endpoint, at most 100 objects, exact payload") {
  std::vector<WooUpdate> updates;
  for (std::size_t i = 0; i < 230; ++i) updates.push_back({i, {0, 1000 + i}, 1});
  for (std::size_t i = 0; i < 30; ++i) updates.push_back({230 + i, {7, 700 + i}, 2});
  for (std::size_t i = 0; i < 105; ++i) updates.push_back({260 + i, {8, 800 + i}, 3});
  const auto batches = plan_batches(updates);
  REQUIRE(batches.size() == 6);
  std::vector<std::pair<std::string, std::size_t>> shape;
  for (const auto& b : batches) shape.emplace_back(b.resource(), b.updates.size());
  CHECK(shape ==
        std::vector<std::pair<std::string, std::size_t>>{{"products/batch", 100},
                                                         {"products/batch", 100},
                                                         {"products/batch", 30},
                                                         {"products/7/variations/batch", 30},
                                                         {"products/8/variations/batch", 100},
                                                         {"products/8/variations/batch", 5}});
  const WooBatch one{0, {{0, {0, 12}, 7}, {1, {0, 13}, -2}}};
  CHECK(batch_body(one) == R"({"update":[{"id":12,"stock_quantity":7,"manage_stock":true},)"
                           R"({"id":13,"stock_quantity":-2,"manage_stock":true}]})");
}

TEST_CASE("batch answers: matched by id, errors classified, a kept quantity is no confirmation") {
  const WooBatch batch{0,
                       {{0, {0, 1}, 5},
                        {1, {0, 2}, 5},
                        {2, {0, 3}, 5},
                        {3, {0, 4}, 5},
                        {4, {0, 5}, 5},
                        {5, {0, 6}, 5}}};
  const auto body = json::parse(R"({"update":[
    {"id":2,"error":{"code":"woocommerce_rest_product_invalid_id","message":"Invalid ID.","data":{"status":400}}},
    {"id":1,"stock_quantity":5},
    {"id":3,"error":{"code":"db_error","message":"Deadlock.","data":{"status":500}}},
    {"id":4,"error":{"code":"rest_invalid_param","message":"Bad.","data":{"status":400}}},
    {"id":5,"stock_quantity":null}]})");
  const auto results = read_batch_reply(body, batch);
  REQUIRE(results.size() == 6);
  CHECK(results[0].status == WooItemStatus::confirmed);
  CHECK(results[1].status == WooItemStatus::invalid_id);
  CHECK(results[2].status == WooItemStatus::transient);
  CHECK(results[3].status == WooItemStatus::rejected);
  CHECK(results[3].message == "rest_invalid_param: Bad.");
  CHECK(results[4].status == WooItemStatus::rejected);
  CHECK(results[4].message.find("stock_quantity null") != std::string::npos);
  CHECK(results[5].status == WooItemStatus::transient);  // not in the answer at all
}

TEST_CASE("sku lookups: url-encoded, comma-joined, bounded, SKUs with commas left out") {
  std::vector<std::string> skus{"A B", "C,D", "E&F"};
  for (int i = 0; i < 120; ++i) skus.push_back("S" + std::to_string(i));
  const auto values = sku_query_values(skus);
  REQUIRE(values.size() == 3);
  CHECK(values[0].starts_with("A%20B,E%26F,S0,S1,"));
  std::size_t total = 0;
  for (const auto& v : values) total += split_commas(v).size();
  CHECK(total == 122);
  CHECK(split_commas(values[0]).size() == 50);
}

TEST_CASE("the walk pages products and variations once, the next run reads the cache") {
  Fixture f;
  for (std::uint64_t i = 1; i <= 250; ++i) f.woo.simple(1000 + i, "S-" + std::to_string(i));
  f.woo.variable(5000, "V1", 5001, 150);
  f.woo.variable(6000, "V2", 6001, 3);
  f.woo.variable(7000, "V3", 7001, 0);  // no variations: no request for them
  f.serve();
  auto store = f.store();
  f.prepare(*store);
  const auto gets = f.requests("GET");
  REQUIRE(gets.size() == 3 + 2 + 1);
  for (std::size_t page = 1; page <= 3; ++page) {
    const auto& q = gets[page - 1].query;
    CHECK(gets[page - 1].path == "products");
    CHECK(q.at("per_page") == "100");
    CHECK(q.at("page") == std::to_string(page));
    CHECK(q.at("orderby") == "id");
    CHECK(q.at("_fields") == "id,sku,type,parent_id,variations");
  }
  CHECK(gets[3].path == "products/5000/variations");
  CHECK(gets[4].path == "products/5000/variations");
  CHECK(gets[4].query.at("page") == "2");
  CHECK(gets[5].path == "products/6000/variations");
  CHECK(gets[5].query.at("_fields") == "id,sku,parent_id");

  // Cached: a new store (a restart) on the same database asks for no page.
  f.reset_requests();
  f.serve();
  auto again = f.store();
  const auto results = f.push(*again, {{"S-7", 3}, {"V1", 2}, {"VAR-5000-120", 9}});
  CHECK(f.count("GET") == 0);
  REQUIRE(results.size() == 3);
  for (const auto& r : results) CHECK(r.outcome == PushOutcome::confirmed);
  CHECK(f.woo.stock.at(1007) == 3);
  CHECK(f.woo.stock.at(5000) == 2);  // the variable product's own SKU: its parent-level stock
  CHECK(f.woo.stock.at(5120) == 9);
  CHECK(f.count("POST", "products/batch") == 1);
  CHECK(f.count("POST", "products/5000/variations/batch") == 1);
}

TEST_CASE("a SKU shared by a product and a variation is set on both") {
  Fixture f;
  f.woo.simple(10, "DUP");
  f.woo.variable(20, "V", 21, 2);
  f.woo.variations[22].sku = "DUP";
  f.serve();
  auto store = f.store();
  const auto results = f.push(*store, {{"DUP", 4}});
  CHECK(results.at(0).outcome == PushOutcome::confirmed);
  CHECK(f.woo.stock.at(10) == 4);
  CHECK(f.woo.stock.at(22) == 4);

  // One of them refuses: the SKU is rejected, with the store's words and the product named.
  f.woo.item_errors[22] = {"woocommerce_rest_cannot_edit", 400};
  const auto refused = f.push(*store, {{"DUP", 5}});
  CHECK(refused.at(0).outcome == PushOutcome::rejected);
  CHECK(refused.at(0).message ==
        "variation 22 of product 20: woocommerce_rest_cannot_edit: Refused.");
}

TEST_CASE("HTTP Basic auth: the exact header, nothing in the URL") {
  Fixture f;
  f.woo.simple(1, "A");
  f.serve();
  auto store = f.store();
  f.push(*store, {{"A", 1}});
  REQUIRE(!f.fake->requests().empty());
  for (const auto& r : f.fake->requests()) {
    std::string auth;
    for (const auto& h : r.headers)
      if (h.name == "Authorization") auth = h.value;
    CHECK(auth == "Basic Y2tfdGVzdDpjc190ZXN0");
    CHECK(r.target.find("consumer_") == std::string::npos);
    CHECK(r.target.find("cs_test") == std::string::npos);
  }
}

TEST_CASE("query-string auth: url-encoded parameters, no Authorization header") {
  Fixture f;
  f.config.auth = config::WooAuth::query_string;
  write_file(f.dir / "cs", "cs_a+b/c&d\n");
  f.woo.simple(1, "A");
  f.serve();
  auto store = f.store();
  f.push(*store, {{"A", 1}});
  REQUIRE(f.fake->requests().size() == 2);
  for (const auto& r : f.fake->requests()) {
    for (const auto& h : r.headers) CHECK(h.name != "Authorization");
    CHECK(r.target.find("consumer_key=ck_test&consumer_secret=cs_a%2Bb%2Fc%26d") !=
          std::string::npos);
  }
  CHECK(f.fake->requests()[1].target ==
        "/wp-json/wc/v3/products/batch?consumer_key=ck_test&consumer_secret=cs_a%2Bb%2Fc%26d");
}

TEST_CASE("the batch request: POST products/batch with the exact JSON body") {
  Fixture f;
  f.woo.simple(101, "A");
  f.woo.simple(102, "B");
  f.serve();
  auto store = f.store();
  f.push(*store, {{"A", 7}, {"B", 0}});
  const auto& post = f.fake->requests().back();
  CHECK(post.method == "POST");
  CHECK(post.target == "/wp-json/wc/v3/products/batch");
  CHECK(post.body == R"({"update":[{"id":101,"stock_quantity":7,"manage_stock":true},)"
                     R"({"id":102,"stock_quantity":0,"manage_stock":true}]})");
  bool json_type = false;
  for (const auto& h : post.headers)
    json_type |= h.name == "Content-Type" && h.value == "application/json";
  CHECK(json_type);
}

TEST_CASE("one push is split into requests of at most 100, by endpoint") {
  Fixture f;
  std::vector<PushItem> batch;
  for (std::uint64_t i = 1; i <= 250; ++i) f.woo.simple(1000 + i, "S-" + std::to_string(1000 + i));
  f.woo.variable(5000, "PA", 5001, 120);
  f.woo.variable(6000, "PB", 6001, 30);
  for (std::uint64_t i = 1; i <= 250; ++i) batch.push_back({"S-" + std::to_string(1000 + i), 1});
  for (std::uint64_t i = 1; i <= 120; ++i) batch.push_back({"VAR-5000-" + std::to_string(i), 2});
  for (std::uint64_t i = 1; i <= 30; ++i) batch.push_back({"VAR-6000-" + std::to_string(i), 3});
  std::sort(batch.begin(), batch.end(), [](const auto& a, const auto& b) { return a.sku < b.sku; });
  f.serve();
  auto store = f.store();
  REQUIRE(store->max_batch() == 3200);
  CHECK(batch.size() == 400);
  const auto results = f.push(*store, batch);
  for (const auto& r : results) CHECK(r.outcome == PushOutcome::confirmed);
  std::map<std::string, std::vector<std::size_t>> sizes;
  for (const auto& r : f.fake->requests())
    if (r.method == "POST")
      sizes[split(r).path].push_back(json::parse(r.body).at("update").as_array().size());
  CHECK(sizes["products/batch"] == std::vector<std::size_t>{100, 100, 50});
  CHECK(sizes["products/5000/variations/batch"] == std::vector<std::size_t>{100, 20});
  CHECK(sizes["products/6000/variations/batch"] == std::vector<std::size_t>{30});
  CHECK(f.woo.stock.size() == 400);
}

TEST_CASE("requests of one push overlap, up to the configured concurrency") {
  for (const unsigned concurrency : {4U, 2U}) {
    CAPTURE(concurrency);
    Fixture f;
    f.config.concurrency = concurrency;
    std::vector<PushItem> batch;
    for (std::uint64_t i = 1; i <= 800; ++i) {
      f.woo.simple(i, "S-" + std::to_string(10000 + i));
      batch.push_back({"S-" + std::to_string(10000 + i), 5});
    }
    f.serve();
    auto slow = std::make_shared<SlowSession>(f.forward, std::chrono::milliseconds(40));
    auto store = f.store(slow);
    CHECK(store->max_batch() == 100 * concurrency * 8);
    f.prepare(*store);  // 8 product pages: 1, then 7 in parallel
    CHECK(slow->most_in_flight() == concurrency);
    batch.resize(100 * concurrency);
    const auto started = std::chrono::steady_clock::now();
    const auto results = f.push(*store, batch);
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(f.count("POST") == concurrency);
    CHECK(slow->most_in_flight() == concurrency);
    // One round trip for all of them, not `concurrency` round trips.
    CHECK(took < std::chrono::milliseconds(40 * concurrency));
    for (const auto& r : results) CHECK(r.outcome == PushOutcome::confirmed);
  }
}

TEST_CASE("a per-item error rejects that SKU only, a 5xx one is transient") {
  Fixture f;
  for (std::uint64_t i = 1; i <= 4; ++i) f.woo.simple(i, "S" + std::to_string(i));
  f.woo.item_errors[2] = {"woocommerce_rest_invalid_product_sku", 400};
  f.woo.item_errors[3] = {"db_query_error", 503};
  f.serve();
  auto store = f.store();
  const auto results = f.push(*store, {{"S1", 1}, {"S2", 2}, {"S3", 3}, {"S4", 4}});
  CHECK(results[0].outcome == PushOutcome::confirmed);
  CHECK(results[1].outcome == PushOutcome::rejected);
  CHECK(results[1].message == "product 2: woocommerce_rest_invalid_product_sku: Refused.");
  CHECK(results[2].outcome == PushOutcome::transient);
  CHECK(results[3].outcome == PushOutcome::confirmed);
  CHECK(f.count("POST") == 1);
}

TEST_CASE("a quantity the store did not keep is not confirmed") {
  Fixture f;
  f.woo.simple(1, "A");
  f.woo.kept_quantity[1] = nullptr;  // e.g. a product type without stock of its own
  f.serve();
  auto store = f.store();
  const auto results = f.push(*store, {{"A", 3}});
  CHECK(results[0].outcome == PushOutcome::rejected);
}

TEST_CASE("an id the store calls invalid is looked up again and pushed once more") {
  Fixture f;
  f.woo.simple(101, "A");
  f.woo.simple(102, "B");
  f.woo.variable(40, "P", 41, 2);
  f.serve();
  auto store = f.store();
  f.prepare(*store);
  // Recreated in the store under new ids since the walk.
  f.woo.products.erase(101);
  f.woo.simple(901, "A");
  f.woo.variations.erase(42);
  f.woo.variations[45] = {40, "VAR-40-2"};
  f.reset_requests();
  f.serve();
  const auto results = f.push(*store, {{"A", 5}, {"B", 6}, {"VAR-40-2", 7}});
  for (const auto& r : results) CHECK(r.outcome == PushOutcome::confirmed);
  CHECK(f.woo.stock.at(901) == 5);
  CHECK(f.woo.stock.at(45) == 7);
  const auto gets = f.requests("GET");
  REQUIRE(gets.size() == 2);
  CHECK(gets[0].path == "products");
  CHECK(gets[0].query.at("sku") == "A,VAR-40-2");
  CHECK(gets[1].path == "products/40/variations");
  CHECK(f.count("POST") == 4);  // first round (2 endpoints), second round (2 endpoints)

  // The cache now holds the new ids: no lookup, no second round.
  f.reset_requests();
  f.serve();
  auto restarted = f.store();
  f.push(*restarted, {{"A", 8}, {"VAR-40-2", 9}});
  CHECK(f.count("GET") == 0);
  CHECK(f.count("POST") == 2);
  CHECK(f.woo.stock.at(901) == 8);
}

TEST_CASE("an id still invalid after the lookup is rejected, after one retry only") {
  Fixture f;
  f.woo.simple(101, "A");
  f.woo.simple(102, "B");
  f.serve();
  auto store = f.store();
  f.prepare(*store);
  f.woo.products.erase(101);  // deleted: no product has A any more
  f.reset_requests();
  f.serve();
  const auto results = f.push(*store, {{"A", 5}, {"B", 6}});
  CHECK(results[0].outcome == PushOutcome::rejected);
  CHECK(results[0].message ==
        "product 101: woocommerce_rest_product_invalid_id: Invalid ID.; and no other product or "
        "variation has this SKU");
  CHECK(results[1].outcome == PushOutcome::confirmed);
  CHECK(f.count("POST") == 1);
  CHECK(f.count("GET") == 1);
}

TEST_CASE("unknown SKUs: a bounded products?sku lookup, then rejected, found ones are cached") {
  Fixture f;
  f.woo.simple(1, "KNOWN");
  f.serve();
  auto store = f.store();
  f.prepare(*store);
  f.woo.simple(2, "NEW");  // added to the store after the walk
  f.reset_requests();
  f.serve();
  std::vector<PushItem> batch{{"KNOWN", 1}, {"NEW", 2}};
  for (int i = 0; i < 120; ++i) batch.push_back({"NOPE-" + std::to_string(100 + i), 3});
  const auto results = f.push(*store, batch);
  CHECK(results[0].outcome == PushOutcome::confirmed);
  CHECK(results[1].outcome == PushOutcome::confirmed);
  for (std::size_t i = 2; i < results.size(); ++i) {
    CHECK(results[i].outcome == PushOutcome::rejected);
    CHECK(results[i].message.starts_with(
        "not found in the WooCommerce store: no product has this SKU"));
  }
  // 121 unknown SKUs, 50 a request; the walk is fresh, so no walk again.
  CHECK(f.count("GET", "products") == 3);
  CHECK(f.count("GET", "variations") == 0);
  CHECK(f.woo.stock.at(2) == 2);

  f.reset_requests();
  f.serve();
  f.push(*store, {{"NEW", 4}});
  CHECK(f.count("GET") == 0);
}

TEST_CASE("unknown SKUs walk the catalogue again when the last walk is old enough") {
  Fixture f;
  f.woo.variable(40, "P", 41, 2);
  // A walk stored 7 hours ago, before variation 42 existed.
  LmdbStoreIdCache cache(f.db, "shop", "woocommerce https://shop.test");
  cache.replace_all({{"VAR-40-1", "40/41"}}, now_millis() - 7 * 3600 * 1000);
  f.serve();
  auto store = f.store();
  const auto results = f.push(*store, {{"VAR-40-2", 3}, {"ZZZ", 1}});
  CHECK(results[0].outcome == PushOutcome::confirmed);
  CHECK(results[1].outcome == PushOutcome::rejected);
  CHECK(f.woo.stock.at(42) == 3);
  // Lookup, then the walk: products page and the parent's variations.
  CHECK(f.count("GET", "products") == 2);
  CHECK(f.count("GET", "variations") == 1);
  CHECK(cache.completed_at() > now_millis() - 60'000);

  // The walk is fresh now: another unknown SKU costs a lookup, not a walk (ZZZ itself is
  // remembered as not in the store: see the test below).
  f.reset_requests();
  f.serve();
  f.push(*store, {{"YYY", 2}});
  CHECK(f.count("GET") == 1);
}

TEST_CASE("an unknown SKU is remembered until the next walk: later pushes send no lookup") {
  Fixture f;
  f.woo.simple(1, "A");
  f.serve();
  auto store = f.store();
  auto results = f.push(*store, {{"A", 1}, {"NOPE", 2}});
  CHECK(results[1].outcome == PushOutcome::rejected);
  CHECK(f.count("GET", "products") == 2);  // the walk, then the lookup of NOPE

  f.reset_requests();
  f.serve();
  results = f.push(*store, {{"A", 2}, {"NOPE", 3}});
  CHECK(results[0].outcome == PushOutcome::confirmed);
  CHECK(results[1].outcome == PushOutcome::rejected);
  CHECK(results[1].message.starts_with("SKU not in the WooCommerce catalogue (as of the walk at "));
  CHECK(results[1].message.ends_with("); it is looked up again after the next catalogue refresh"));
  CHECK(f.count("GET") == 0);
  CHECK(f.count("POST") == 1);

  // Kept in the cache: a restarted beed (a new store on the same LMDB) asks no more.
  f.reset_requests();
  f.serve();
  auto restarted = f.store();
  results = f.push(*restarted, {{"NOPE", 4}});
  CHECK(results[0].outcome == PushOutcome::rejected);
  CHECK(f.requests().empty());

  // The next walk forgets it: the shop added it meanwhile.
  f.woo.simple(2, "NOPE");
  LmdbStoreIdCache cache(f.db, "shop", "woocommerce https://shop.test");
  cache.replace_all({{"A", "1"}}, now_millis() - 25 * 3600 * 1000);
  f.reset_requests();
  f.serve();
  auto later = f.store();
  results = f.push(*later, {{"NOPE", 5}});
  CHECK(results[0].outcome == PushOutcome::confirmed);
  CHECK(f.woo.stock.at(2) == 5);
}

TEST_CASE("catalogue_refresh: how old the map may get before prepare walks it again") {
  Fixture f;
  f.woo.simple(1, "A");
  LmdbStoreIdCache cache(f.db, "shop", "woocommerce https://shop.test");
  cache.replace_all({{"A", "1"}}, now_millis() - 2 * 3600 * 1000);
  f.serve();
  auto store = f.store();
  f.prepare(*store);
  CHECK(f.requests().empty());  // the default, 24h

  f.config.catalogue_refresh = std::chrono::hours(1);
  auto hourly = f.store();
  f.prepare(*hourly);
  CHECK(f.count("GET", "products") == 1);
  CHECK(cache.completed_at() > now_millis() - 60'000);
}

TEST_CASE("a Retry-After beyond the retry budget ends the push, naming when to come back") {
  Fixture f;
  f.woo.simple(1, "A");
  f.serve(1);  // the walk
  f.fake->then_status(503, R"({"code":"maintenance","message":"Back soon."})",
                      {{"Retry-After", "600"}});
  f.serve();
  auto store = f.store();
  bool retry = true;
  const auto before = now_millis();
  const auto message = store_error_message([&] { f.push(*store, {{"A", 1}}); }, &retry);
  CHECK_FALSE(retry);  // not retried in the run half a second later
  CHECK(message.starts_with("POST products/batch: WooCommerce asked to come back at "));
  CHECK(message.find("(HTTP 503 with Retry-After: 600), later than this run waits") !=
        std::string::npos);
  CHECK(message.find(format_time(before + 600'000).substr(0, 10)) != std::string::npos);
  CHECK(f.count("POST") == 1);
}

TEST_CASE("a map over a day old is walked again, and kept when that walk fails") {
  Fixture f;
  f.woo.simple(1, "A");
  f.woo.simple(2, "B");
  LmdbStoreIdCache cache(f.db, "shop", "woocommerce https://shop.test");
  cache.replace_all({{"A", "1"}}, now_millis() - 25 * 3600 * 1000);
  f.fake->then([](const net::Request&) -> net::Response {
    throw net::TransportError(net::FailureKind::tls_verify,
                              "https://fake.test: certificate verify failed");
  });
  f.serve();
  auto store = f.store();
  const auto results = f.push(*store, {{"A", 3}});
  CHECK(results[0].outcome == PushOutcome::confirmed);
  CHECK(f.woo.stock.at(1) == 3);
  CHECK(f.count("GET") == 1);  // the failed walk; the old map did the rest

  // With no map at all, a failed walk fails the run.
  Fixture g;
  g.fake->then([](const net::Request&) -> net::Response {
    throw net::TransportError(net::FailureKind::tls_verify,
                              "https://fake.test: certificate verify failed");
  });
  auto fresh = g.store();
  bool retry = true;
  const auto message = store_error_message([&] { g.prepare(*fresh); }, &retry);
  CHECK_FALSE(retry);
  CHECK(message ==
        "woocommerce https://shop.test: catalogue walk failed: GET products: https://fake.test: "
        "certificate verify failed");
}

TEST_CASE("HTTP 401: StoreError without retry, naming the files, with no secret") {
  Fixture f;
  f.fake->then_status(
      401,
      R"({"code":"woocommerce_rest_authentication_error","message":"Consumer secret is invalid.","data":{"status":401}})",
      {{"WWW-Authenticate", "Basic realm=\"WooCommerce API\""}});
  auto store = f.store();
  bool retry = true;
  // Refused during prepare's walk, thrown by the push (the SKUs carry the message, as with
  // Shopify).
  const auto message = store_error_message([&] { f.push(*store, {{"A", 1}}); }, &retry);
  CHECK_FALSE(retry);
  CHECK(message ==
        "WooCommerce refused the API key (HTTP 401 woocommerce_rest_authentication_error: "
        "Consumer secret is invalid.): check consumer_key_file/consumer_secret_file");
  CHECK(f.fake->requests().size() == 1);

  // During a push too (the walk done, the key revoked since): one request, no storm.
  Fixture g;
  g.woo.simple(1, "A");
  g.serve(1);
  g.fake->then_status(403,
                      R"({"code":"woocommerce_rest_cannot_batch","message":"Sorry, cs_test."})");
  auto other = g.store();
  const auto refused = store_error_message([&] { g.push(*other, {{"A", 1}}); }, &retry);
  CHECK_FALSE(retry);
  CHECK(refused.find("HTTP 403 woocommerce_rest_cannot_batch") != std::string::npos);
  CHECK(refused.find("cs_test") == std::string::npos);  // the store echoed it: redacted
  CHECK(g.fake->requests().size() == 2);
}

TEST_CASE("a truncated JSON answer is retried, the batch is sent again") {
  Fixture f;
  f.woo.simple(1, "A");
  f.serve(1);  // the walk
  f.fake->then([&](const net::Request& r) {
    auto good = f.woo.answer(r);
    good.body.resize(good.body.size() / 2);
    return good;
  });
  f.serve();
  auto store = f.store();
  const auto results = f.push(*store, {{"A", 4}});
  CHECK(results[0].outcome == PushOutcome::confirmed);
  CHECK(f.count("POST") == 2);
}

TEST_CASE("a partly failed push keeps confirmed results, a wholly failed one throws") {
  Fixture f;
  f.config.concurrency = 1;
  f.woo.simple(1, "A");
  f.woo.variable(40, "P", 41, 1);
  f.serve();
  auto store = f.store();
  f.prepare(*store);
  f.reset_requests();
  // products/batch goes first, then the variations batch.
  f.fake->then([](const net::Request&) -> net::Response {
    throw net::TransportError(net::FailureKind::tls_verify,
                              "https://fake.test: certificate verify failed");
  });
  f.serve();
  const auto results = f.push(*store, {{"A", 1}, {"VAR-40-1", 2}});
  CHECK(results[0].outcome == PushOutcome::transient);
  CHECK(results[0].message == "POST products/batch: https://fake.test: certificate verify failed");
  CHECK(results[1].outcome == PushOutcome::confirmed);

  f.reset_requests();
  f.fake->then([](const net::Request&) -> net::Response {
    throw net::TransportError(net::FailureKind::tls_verify,
                              "https://fake.test: certificate verify failed");
  });
  bool retry = true;
  const auto message = store_error_message([&] { f.push(*store, {{"A", 1}}); }, &retry);
  CHECK_FALSE(retry);
  CHECK(message ==
        "woocommerce https://shop.test: POST products/batch: https://fake.test: certificate "
        "verify failed");
}

TEST_CASE("credentials: read at every prepare, a missing file is a StoreError without retry") {
  Fixture f;
  f.woo.simple(1, "A");
  f.serve();
  auto store = f.store();
  f.push(*store, {{"A", 1}});
  write_file(f.dir / "cs", "cs_rotated\n");
  f.push(*store, {{"A", 2}});
  std::string last;
  for (const auto& h : f.fake->requests().back().headers)
    if (h.name == "Authorization") last = h.value;
  CHECK(last == "Basic Y2tfdGVzdDpjc19yb3RhdGVk");  // ck_test:cs_rotated

  f.config.consumer_key_file = f.dir / "missing";
  auto broken = f.store();
  bool retry = true;
  const auto message = store_error_message([&] { f.prepare(*broken); }, &retry);
  CHECK_FALSE(retry);
  CHECK(message.find("consumer_key_file") != std::string::npos);
  CHECK(message.find("cs_rotated") == std::string::npos);
}

TEST_CASE("describe and max_batch") {
  Fixture f;
  f.config.url = "https://shop.example.com";
  f.config.concurrency = 3;
  auto store = f.store();
  CHECK(store->describe() == "woocommerce https://shop.example.com");
  CHECK(store->max_batch() == 2400);
}
