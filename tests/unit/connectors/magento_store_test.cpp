// The Magento store connector: its pure pieces (Magento's error phrases, the input-limit
// messages, paging) and the store against MiniMagento, a small in-test model of the REST API
// that answers by route. The platform's rules are checked live against tests/emulators/magento
// through the real beed (tests/integration/test_store_magento.py).
#include "connectors/store/magento/magento_store.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "connectors/store/magento/magento_catalogue.hpp"
#include "connectors/store/magento/magento_messages.hpp"
#include "request_target.hpp"
#include "state/inventory_db.hpp"
#include "state/lmdb_store_id_cache.hpp"
#include "test_support.hpp"

using namespace pb;
using namespace pb::connectors;
namespace asio = boost::asio;
namespace json = boost::json;
using pb::test::ScratchDir;
using pb::test::write_file;

namespace {

constexpr std::string_view kRoot = "/rest/all/V1/";
constexpr std::string_view kToken = "tok-0123456789abcdefghijklmnop";

// A Magento store small enough to reason about: products, source items, and the switches
// the tests turn (input limit, refused SKUs, a revoked token).
class MiniMagento final : public net::HttpSession {
 public:
  std::map<std::string, std::string> products;  // sku -> type_id, ids in insertion order
  std::map<std::string, Quantity> stock;
  std::set<std::string> refused;
  std::size_t input_limit = 0;  // 0: off
  bool revoked = false;
  std::vector<net::Request> requests;
  std::vector<std::size_t> post_sizes;
  std::size_t fail_page = 0;      // > 0: the walk's GET of this page is refused (400), every time
  std::size_t max_page_size = 0;  // > 0: "Maximum SearchCriteria pageSize is N" above it
  std::function<void(std::size_t page)> on_page;  // called at each walk page asked for

  // (currentPage, pageSize) of the whole-catalogue GETs (not the lookups by SKU), sorted.
  std::vector<std::pair<std::size_t, std::size_t>> walk_pages() const {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    for (const auto& r : requests) {
      const auto t = test::split_target(r.target);
      if (t.path != std::string(kRoot) + "products" ||
          t.query.count("searchCriteria[filter_groups][0][filters][0][value]"))
        continue;
      out.emplace_back(std::stoul(t.query.at("searchCriteria[currentPage]")),
                       std::stoul(t.query.at("searchCriteria[pageSize]")));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  asio::awaitable<net::Response> send(net::Request request) override {
    requests.push_back(request);
    co_return answer(request);
  }
  std::string origin() const override { return "https://shop.test"; }

  std::size_t count(std::string_view method, std::string_view path) const {
    return static_cast<std::size_t>(std::count_if(requests.begin(), requests.end(), [&](auto& r) {
      return r.method == method &&
             test::split_target(r.target).path == std::string(kRoot) + std::string(path);
    }));
  }

 private:
  static net::Response reply(unsigned status, const json::value& body) {
    return net::Response{status, {}, json::serialize(body)};
  }

  net::Response answer(const net::Request& request) {
    const auto auth = std::find_if(request.headers.begin(), request.headers.end(),
                                   [](auto& h) { return h.name == "Authorization"; });
    if (revoked || auth == request.headers.end() || auth->value != "Bearer " + std::string(kToken))
      return reply(401, {{"message", "The consumer isn't authorized to access %resources."},
                         {"parameters", {{"resources", "Magento_InventoryApi::source_item"}}}});
    const auto t = test::split_target(request.target);
    REQUIRE(t.path.starts_with(kRoot));
    const auto path = t.path.substr(kRoot.size());
    if (path == "inventory/sources/default") return reply(200, {{"source_code", "default"}});
    if (path.starts_with("inventory/sources/"))
      return reply(404, {{"message", "Source with code \"%value\" does not exist."},
                         {"parameters", {{"value", path.substr(18)}}}});
    if (path == "products") return list(t.query);
    if (path == "inventory/source-items") return save(request.body);
    return reply(404, {{"message", "Request does not match any route."}});
  }

  net::Response list(const std::map<std::string, std::string>& q) {
    CHECK(q.at("fields") == "items[sku,id,type_id],total_count");
    std::set<std::string> wanted;
    const std::string filter = "searchCriteria[filter_groups][0][filters][0][value]";
    if (q.count(filter)) {
      std::string value = q.at(filter);
      for (std::size_t from = 0;;) {
        const auto comma = value.find(',', from);
        wanted.insert(value.substr(from, comma - from));
        if (comma == std::string::npos) break;
        from = comma + 1;
      }
    }
    json::array all;
    std::size_t id = 0;
    for (const auto& [sku, type] : products) {
      ++id;
      if (wanted.empty() || wanted.count(sku))
        all.push_back(json::object{{"sku", sku}, {"id", id}, {"type_id", type}});
    }
    const auto size = std::stoul(q.at("searchCriteria[pageSize]"));
    if (wanted.empty()) {
      const auto asked = std::stoul(q.at("searchCriteria[currentPage]"));
      if (on_page) on_page(asked);
      if (asked == fail_page) return reply(400, {{"message", "Something went wrong"}});
    }
    if (max_page_size != 0 && size > max_page_size)
      return reply(400, {{"message", "Maximum SearchCriteria pageSize is %max"},
                         {"parameters", {{"max", max_page_size}}}});
    const auto pages = std::max<std::size_t>(1, (all.size() + size - 1) / size);
    // Past the end, Magento answers the last page again.
    const auto page = std::min<std::size_t>(std::stoul(q.at("searchCriteria[currentPage]")), pages);
    json::array items;
    for (std::size_t i = (page - 1) * size; i < all.size() && i < page * size; ++i)
      items.push_back(all[i]);
    return reply(200, {{"items", items}, {"total_count", all.size()}});
  }

  net::Response save(const std::string& body) {
    const auto items = json::parse(body).at("sourceItems").as_array();
    post_sizes.push_back(items.size());
    if (input_limit != 0 && items.size() > input_limit)
      return reply(400, {{"message", "Maximum items of type \"%type\" is %max"},
                         {"parameters", {{"type", "SourceItemInterface"}, {"max", input_limit}}}});
    for (const auto& item : items) {
      const auto sku = std::string(item.at("sku").as_string());
      const auto quantity = item.at("quantity").to_number<Quantity>();
      CHECK(item.at("source_code").as_string() == "default");
      CHECK(item.at("status").to_number<int>() == (quantity > 0 ? 1 : 0));
      if (refused.count(sku))
        return reply(400, {{"message", "Validation Failed"},
                           {"errors", json::array{{{"message", "Product \"%1\" is locked"},
                                                   {"parameters", json::array{sku}}}}}});
    }
    for (const auto& item : items)
      stock[std::string(item.at("sku").as_string())] = item.at("quantity").to_number<Quantity>();
    return reply(200, json::array{});
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
  state::InventoryDb db{dir.path() / "state"};
  std::shared_ptr<MiniMagento> magento = std::make_shared<MiniMagento>();
  config::MagentoStoreConfig config;

  Fixture() {
    write_file(dir / "token", std::string(kToken) + "\n");
    config.url = "https://shop.test";
    config.access_token_file = dir / "token";
  }

  std::unique_ptr<MagentoStore> store() {
    return std::make_unique<MagentoStore>(
        config, StoreDeps{{}, state::lmdb_store_id_caches(db, "shop"), "shop"}, magento);
  }

  std::vector<PushResult> push(Store& store, std::vector<PushItem> batch) {
    return test::run_with_pool([&](asio::any_io_executor pool) {
      return prepare_then_push(store, std::move(batch), pool);
    });
  }

  // prepare() alone, with the run's progress and stop flag.
  void prepare(Store& store, Progress* progress = nullptr,
               std::shared_ptr<std::atomic<bool>> stop = nullptr) {
    test::run_with_pool([&](asio::any_io_executor pool) -> asio::awaitable<void> {
      PushContext context{pool, "shop/1", progress, stop};
      co_await store.prepare(context);
    });
  }

  void simples(std::size_t n) {
    for (std::size_t i = 1; i <= n; ++i)
      magento->products["S" + std::to_string(1000 + i)] = "simple";
  }
};

std::vector<PushItem> items_for(const std::vector<std::string>& skus, Quantity quantity = 5) {
  std::vector<PushItem> out;
  for (const auto& sku : skus) out.push_back({sku, quantity});
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.sku < b.sku; });
  return out;
}

}  // namespace

TEST_CASE("placeholders: %1 from a list, %name from an object, the longest name first") {
  const json::value list = json::array{"A", "B", 3, 4, 5, 6, 7, 8, 9, "TEN"};
  CHECK(substitute_placeholders("%1 and %2 (%10)", &list) == "A and B (TEN)");
  const json::value object = {{"field", "quantity"}, {"max", 20}};
  CHECK(substitute_placeholders("\"%field\" is %max; %missing stays; 100%", &object) ==
        "\"quantity\" is 20; %missing stays; 100%");
  CHECK(substitute_placeholders("%1", nullptr) == "%1");
}

TEST_CASE("error text: a validation failure lists each error, parameters substituted") {
  const auto body = json::parse(
      R"({"message":"Validation Failed","errors":[{"message":"\"%field\" should be numeric.",)"
      R"("parameters":{"field":"quantity"}},{"message":"Product \"%1\" is locked","parameters":["X"]}]})");
  CHECK(error_text(body) ==
        "Validation Failed: \"quantity\" should be numeric.; Product \"X\" is locked");
  CHECK(error_text(json::parse("[1]")).empty());
}

TEST_CASE("input limits: the maximum is read from Magento's phrases") {
  CHECK(input_list_limit("Maximum items of type "
                         "\"\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface\" is 20") ==
        20u);
  CHECK_FALSE(input_list_limit("Maximum items of type \"%type\" is %max"));
  CHECK_FALSE(input_list_limit("Maximum items of type \"X\" is 0"));
  CHECK(page_size_limit("Maximum SearchCriteria pageSize is 50") == 50u);
  CHECK_FALSE(page_size_limit("Could not save Source Item"));
}

TEST_CASE("paging: page count, the query asks only for the needed fields, SKU filters") {
  CHECK(page_count(0, 300) == 0);
  CHECK(page_count(300, 300) == 1);
  CHECK(page_count(301, 300) == 2);
  const auto q = test::split_target("/x?" + products_page_query(3, 300)).query;
  CHECK(q.at("searchCriteria[pageSize]") == "300");
  CHECK(q.at("searchCriteria[currentPage]") == "3");
  CHECK(q.at("fields") == "items[sku,id,type_id],total_count");
  std::vector<std::string> skus{"A,B", ""};
  for (int i = 0; i < 120; ++i) skus.push_back("K" + std::to_string(i));
  const auto values = sku_filter_values(skus);
  REQUIRE(values.size() == 3);  // 120 SKUs, 50 a value; "A,B" and "" cannot be asked for
  CHECK(test::percent_decode(values[0]).starts_with("K0,K1,"));
  MagentoProducts out;
  const auto total = read_products_page(
      json::parse(R"({"items":[{"sku":"A","id":7,"type_id":"simple"},{"id":8}],"total_count":9})"),
      out);
  CHECK(total == 9u);
  CHECK(out.size() == 1);
  CHECK(encode_product(out.at("A")) == "7:simple");
  CHECK(decode_product("7:simple")->type == "simple");
  CHECK_FALSE(decode_product("-"));
  CHECK_FALSE(holds_quantity("configurable"));
  CHECK(holds_quantity("virtual"));
}

TEST_CASE("store: the walk stops at total_count although pages past the end repeat") {
  Fixture f;
  f.simples(650);
  auto store = f.store();
  const auto results = f.push(*store, items_for({"S1001", "S1650"}));
  CHECK(results[0].outcome == PushOutcome::confirmed);
  CHECK(results[1].outcome == PushOutcome::confirmed);
  CHECK(f.magento->count("GET", "products") == 3);  // 300 + 300 + 50
  CHECK(f.magento->stock.at("S1650") == 5);
}

TEST_CASE("store: an unknown SKU is never sent, and is remembered until the next walk") {
  Fixture f;
  f.simples(3);
  f.magento->products["CFG"] = "configurable";
  auto store = f.store();
  auto results = f.push(*store, items_for({"S1001", "GHOST", "CFG"}));
  CHECK(results[0].outcome == PushOutcome::rejected);  // CFG
  CHECK(results[0].message.find("configurable") != std::string::npos);
  CHECK(results[1].outcome == PushOutcome::rejected);  // GHOST
  CHECK(results[1].message.find("not in the Magento catalogue") != std::string::npos);
  CHECK(results[2].outcome == PushOutcome::confirmed);
  CHECK(f.magento->stock.count("GHOST") == 0);
  CHECK(f.magento->stock.count("CFG") == 0);
  const auto gets = f.magento->count("GET", "products");
  CHECK(gets == 2);  // the walk, then one lookup of GHOST

  results = f.push(*store, items_for({"GHOST"}));
  CHECK(results[0].outcome == PushOutcome::rejected);
  CHECK(f.magento->count("GET", "products") == gets);  // no lookup this time
  CHECK(f.magento->count("POST", "inventory/source-items") == 1);
}

TEST_CASE("store: a refused SKU is isolated with Magento's words, the rest is set") {
  Fixture f;
  f.simples(40);
  f.magento->refused = {"S1017"};
  auto store = f.store();
  std::vector<std::string> skus;
  for (int i = 1; i <= 40; ++i) skus.push_back("S" + std::to_string(1000 + i));
  const auto results = f.push(*store, items_for(skus));
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (skus[i] == "S1017") {
      CHECK(results[i].outcome == PushOutcome::rejected);
      CHECK(results[i].message ==
            "Magento refused the source item: Validation Failed: Product \"S1017\" is locked");
    } else {
      CHECK(results[i].outcome == PushOutcome::confirmed);
    }
  }
  CHECK(f.magento->stock.size() == 39);
}

TEST_CASE("store: with input limits on, calls shrink to the store's maximum and all is set") {
  Fixture f;
  f.simples(50);
  f.magento->input_limit = 7;
  auto store = f.store();
  std::vector<std::string> skus;
  for (int i = 1; i <= 50; ++i) skus.push_back("S" + std::to_string(1000 + i));
  const auto results = f.push(*store, items_for(skus));
  for (const auto& r : results) CHECK(r.outcome == PushOutcome::confirmed);
  CHECK(f.magento->stock.size() == 50);
  const auto& sizes = f.magento->post_sizes;
  CHECK(sizes.front() == 50);  // the first call learns the limit
  CHECK(std::count_if(sizes.begin(), sizes.end(), [](auto n) { return n > 7; }) == 1);
}

TEST_CASE("store: a refused token fails the run naming access_token_file, never the token") {
  Fixture f;
  f.simples(2);
  f.magento->revoked = true;
  auto store = f.store();
  try {
    f.push(*store, items_for({"S1001"}));
    FAIL("no StoreError");
  } catch (const StoreError& e) {
    const std::string message = e.what();
    CHECK_FALSE(e.retry_in_run());
    CHECK(message.find("access_token_file") != std::string::npos);
    CHECK(message.find("Magento_InventoryApi::source_item") != std::string::npos);
    CHECK(message.find(kToken) == std::string::npos);
  }
}

TEST_CASE("store: a source that does not exist fails the run naming source_code") {
  Fixture f;
  f.simples(2);
  f.config.source_code = "nowhere";
  auto store = f.store();
  try {
    f.push(*store, items_for({"S1001"}));
    FAIL("no StoreError");
  } catch (const StoreError& e) {
    CHECK(std::string(e.what()).find("source_code") != std::string::npos);
  }
  CHECK(f.magento->count("POST", "inventory/source-items") == 0);
}

TEST_CASE("store: a SKU marked unknown is found again once catalogue_refresh has passed") {
  Fixture f;
  f.simples(2);
  auto store = f.store();
  CHECK(f.push(*store, items_for({"NEW-1"}))[0].outcome == PushOutcome::rejected);
  f.magento->products["NEW-1"] = "simple";  // added in the admin after the walk
  CHECK(f.push(*store, items_for({"NEW-1"}))[0].outcome == PushOutcome::rejected);
  CHECK(f.magento->stock.count("NEW-1") == 0);
  f.config.catalogue_refresh = std::chrono::seconds(0);  // the map is now too old
  auto refreshed = f.store();
  CHECK(f.push(*refreshed, items_for({"NEW-1"}))[0].outcome == PushOutcome::confirmed);
  CHECK(f.magento->stock.at("NEW-1") == 5);
}

// ---- the resumable catalogue walk --------------------------------------------------------------

namespace {
using Pages = std::vector<std::pair<std::size_t, std::size_t>>;  // (page, page size)

Pages pages_of(std::size_t from, std::size_t to, std::size_t size) {
  Pages out;
  for (auto p = from; p <= to; ++p) out.emplace_back(p, size);
  return out;
}
}  // namespace

TEST_CASE("magento walk: a first walk that fails on page k goes on from k's wave in the next run") {
  Fixture f;
  f.simples(3000);  // 10 pages of 300: page 1 alone, then waves 2-5, 6-9, 10
  f.magento->fail_page = 7;
  auto store = f.store();
  CHECK_THROWS_WITH_AS(f.prepare(*store), doctest::Contains("catalogue walk failed"), StoreError);
  CHECK(f.magento->walk_pages() == pages_of(1, 9, 300));

  f.magento->fail_page = 0;
  f.magento->requests.clear();
  Progress progress;
  auto again = f.store();  // a restart
  f.prepare(*again, &progress);
  CHECK(f.magento->walk_pages() == pages_of(6, 10, 300));  // the failed wave, then the last page
  CHECK(progress.seen.front().first == 1500);              // the first run's pages count
  CHECK(progress.seen.back() == std::pair<std::uint64_t, std::uint64_t>{3000, 3000});
  f.magento->requests.clear();
  const auto results = f.push(*again, items_for({"S1001", "S2500", "S4000"}));
  for (const auto& r : results) CHECK(r.outcome == PushOutcome::confirmed);
  CHECK(f.magento->walk_pages().empty());
  CHECK(f.magento->count("GET", "products") == 0);  // no lookups: all three were mapped
}

TEST_CASE("magento walk: a stop ends it between two waves, the next run goes on") {
  Fixture f;
  f.simples(3000);
  auto stop = std::make_shared<std::atomic<bool>>(false);
  f.magento->on_page = [&](std::size_t page) {
    if (page == 3) stop->store(true);  // beectl pause while the wave 2-5 is read
  };
  auto store = f.store();
  CHECK_THROWS_WITH_AS(f.prepare(*store, nullptr, stop),
                       doctest::Contains("stopped during the Magento catalogue walk"), StoreError);
  CHECK(f.magento->walk_pages() == pages_of(1, 5, 300));
  stop->store(false);
  f.magento->requests.clear();
  f.prepare(*store, nullptr, stop);
  CHECK(f.magento->walk_pages() == pages_of(6, 10, 300));
}

TEST_CASE("magento walk: progress counts products mapped of total_count") {
  Fixture f;
  f.simples(650);
  Progress progress;
  auto store = f.store();
  f.prepare(*store, &progress);
  using Seen = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
  CHECK(progress.seen == Seen{{0, 0}, {300, 650}, {650, 650}});
  CHECK(progress.done == 1);
}

TEST_CASE("magento walk: a page size cap met mid-walk goes on from the first product not read") {
  CHECK(decode_walk_position("6 300 3000")->page_size == 300);
  CHECK_FALSE(decode_walk_position("6 300"));
  CHECK_FALSE(decode_walk_position("0 300 10"));
  const auto capped = with_page_size_cap({6, 300, 3000}, 200);  // 1,500 read
  CHECK((capped.page - 1) * capped.page_size == 1500);
  CHECK(capped.page_size == 150);
  CHECK(with_page_size_cap({1, 300, 0}, 100).page_size == 100);

  Fixture f;
  f.simples(3000);
  f.magento->fail_page = 7;
  auto store = f.store();
  CHECK_THROWS_AS(f.prepare(*store), StoreError);
  f.magento->fail_page = 0;
  f.magento->max_page_size = 200;  // the admin lowered the cap before the restart
  f.magento->requests.clear();
  auto again = f.store();
  f.prepare(*again);
  auto expected = pages_of(6, 9, 300);  // the wave refused for its size
  const auto rest = pages_of(11, 20, 150);
  expected.insert(expected.end(), rest.begin(), rest.end());
  CHECK(f.magento->walk_pages() == expected);
  f.magento->requests.clear();
  std::vector<std::string> all;
  for (int i = 1; i <= 3000; i += 7) all.push_back("S" + std::to_string(1000 + i));
  for (const auto& r : f.push(*again, items_for(all))) CHECK(r.outcome == PushOutcome::confirmed);
  CHECK(f.magento->count("GET", "products") == 0);  // every SKU mapped: no lookups
}

TEST_CASE("magento walk: a refresh walks into memory: the old map serves if it fails") {
  Fixture f;
  f.simples(1000);
  auto store = f.store();
  f.prepare(*store);
  f.config.catalogue_refresh = std::chrono::seconds(0);  // the map is now too old
  f.magento->fail_page = 3;
  f.magento->requests.clear();
  Progress progress;
  auto refreshing = f.store();
  f.prepare(*refreshing, &progress);  // a warning, not a failure
  CHECK(progress.done == 1);
  CHECK(f.push(*refreshing, items_for({"S2000"}))[0].outcome == PushOutcome::confirmed);
  // The old map served S2000 (on page 4): no lookup by SKU beside the refresh's pages.
  CHECK(f.magento->count("GET", "products") == f.magento->walk_pages().size());
  f.magento->fail_page = 0;
  f.magento->requests.clear();
  auto again = f.store();
  f.prepare(*again);
  CHECK(f.magento->walk_pages() == pages_of(1, 4, 300));  // nothing kept from the failed one
}
