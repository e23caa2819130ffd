// The pieces of a resumable catalogue walk: the bulk result's JSONL reader, the
// BulkOperation reader, and the walk checkpoints of both StoreIdCache implementations.
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "connectors/store/memory_store_id_cache.hpp"
#include "connectors/store/shopify/shopify_bulk.hpp"
#include "state/inventory_db.hpp"
#include "state/lmdb_store_id_cache.hpp"
#include "test_support.hpp"

using namespace pb;
using namespace pb::connectors;
using pb::test::ScratchDir;

namespace {

const std::string kResult =
    R"({"id":"gid://shopify/Product/1","title":"Shirt"})"
    "\n"
    R"({"id":"gid://shopify/ProductVariant/11","sku":"A","inventoryItem":{"id":"gid://shopify/InventoryItem/21"},"__parentId":"gid://shopify/Product/1"})"
    "\n"
    R"({"id":"gid://shopify/ProductVariant/12","sku":"","inventoryItem":{"id":"gid://shopify/InventoryItem/22"},"__parentId":"gid://shopify/Product/1"})"
    "\n"
    R"({"id":"gid://shopify/ProductVariant/13","sku":"B","inventoryItem":{"id":"gid://shopify/InventoryItem/23"}})"
    "\n";

std::vector<std::string> skus_of(const std::vector<shopify::VariantItem>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i.sku + "=" + i.inventory_item_id);
  return out;
}

}  // namespace

TEST_CASE("shopify JSONL: parent lines are skipped, child variants with __parentId are read") {
  shopify::VariantLines lines;
  std::vector<shopify::VariantItem> items;
  lines.feed(kResult, items);
  lines.finish(items);
  CHECK(skus_of(items) == std::vector<std::string>{"A=gid://shopify/InventoryItem/21",
                                                   "B=gid://shopify/InventoryItem/23"});
  CHECK(lines.lines() == 4);
  CHECK(lines.consumed() == kResult.size());
}

TEST_CASE("shopify JSONL: any chunking gives the same items, consumed stops at whole lines") {
  for (const std::size_t size :
       {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{64}, std::size_t{1000}}) {
    shopify::VariantLines lines;
    std::vector<shopify::VariantItem> items;
    std::uint64_t fed = 0;
    for (std::size_t at = 0; at < kResult.size(); at += size) {
      const auto chunk = std::string_view(kResult).substr(at, size);
      lines.feed(chunk, items);
      fed += chunk.size();
      CHECK(lines.consumed() <= fed);
      if (lines.consumed() > 0) CHECK(kResult[lines.consumed() - 1] == '\n');
    }
    lines.finish(items);
    CHECK(items.size() == 2);
  }
}

TEST_CASE("shopify JSONL: a last line without newline is read, a torn one throws") {
  const std::string whole = R"({"sku":"C","inventoryItem":{"id":"gid://shopify/InventoryItem/9"}})";
  shopify::VariantLines lines;
  std::vector<shopify::VariantItem> items;
  lines.feed(whole, items);
  CHECK(items.empty());  // not known to be whole until the file ends
  lines.finish(items);
  REQUIRE(items.size() == 1);
  CHECK(items[0].sku == "C");

  shopify::VariantLines torn;
  items.clear();
  torn.feed(kResult.substr(0, kResult.size() - 20), items);
  CHECK(items.size() == 1);  // A; the B line is torn
  CHECK_THROWS_AS(torn.finish(items), std::runtime_error);
  CHECK(torn.consumed() < kResult.size() - 20);
}

TEST_CASE("shopify JSONL: a resumed reader counts from its start offset, and garbage throws") {
  shopify::VariantLines lines(1000);
  std::vector<shopify::VariantItem> items;
  const std::string line = "{\"sku\":\"D\",\"inventoryItem\":{\"id\":\"x\"}}\r\n";
  lines.feed(line, items);
  CHECK(lines.consumed() == 1000 + line.size());
  CHECK(items.size() == 1);
  CHECK_THROWS_AS(lines.feed("not json\n", items), std::runtime_error);
}

TEST_CASE("shopify bulk: an operation is read with objectCount as UnsignedInt64 text") {
  const auto op = shopify::read_bulk_operation(boost::json::parse(
      R"({"id":"gid://shopify/BulkOperation/5","status":"COMPLETED","errorCode":null,
          "objectCount":"123456","url":"https://storage.test/r.jsonl"})"));
  REQUIRE(op);
  CHECK(op->finished());
  CHECK(op->object_count == 123456);
  CHECK(op->url == "https://storage.test/r.jsonl");
  CHECK_FALSE(shopify::read_bulk_operation(boost::json::value(nullptr)));
  const auto busy = shopify::read_bulk_start(boost::json::parse(
      R"({"bulkOperationRunQuery":{"bulkOperation":null,"userErrors":[
          {"code":"OPERATION_IN_PROGRESS","field":null,"message":"in progress"}]}})"));
  CHECK_FALSE(busy.operation);
  REQUIRE(busy.errors.size() == 1);
  CHECK(busy.errors[0].code == "OPERATION_IN_PROGRESS");
}

namespace {

// The checkpoint contract, for any StoreIdCache. `reopen` gives a fresh handle on the
// same storage (a restart), or the same object for the memory cache.
void check_walk_checkpoints(const std::function<StoreIdCache&()>& reopen) {
  auto& cache = reopen();
  cache.replace_all({{"OLD", "o"}}, 5);
  CHECK(cache.complete());
  CHECK_FALSE(cache.walk_checkpoint());

  cache.begin_walk("pages ");
  CHECK_FALSE(cache.complete());
  CHECK(cache.size() == 0);
  CHECK(cache.walk_checkpoint() == "pages ");
  cache.walk_step({{"A", "1"}, {"B", "2"}}, "pages c1");
  cache.walk_step({{"C", "3"}}, "pages c2\nwith a newline");

  auto& again = reopen();  // a restart
  CHECK_FALSE(again.complete());
  CHECK(again.completed_at() == 0);
  CHECK(again.walk_checkpoint() == "pages c2\nwith a newline");
  CHECK(again.size() == 3);
  CHECK(again.find({"B"}).front() == "2");
  again.finish_walk(77);
  CHECK(again.complete());
  CHECK(again.completed_at() == 77);
  CHECK_FALSE(again.walk_checkpoint());
  CHECK(again.size() == 3);
}

}  // namespace

TEST_CASE("store id caches: a walk's checkpoint and entries survive a restart (memory)") {
  MemoryStoreIdCache cache;
  check_walk_checkpoints([&]() -> StoreIdCache& { return cache; });
}

TEST_CASE("store id caches: a walk's checkpoint and entries survive a restart (LMDB)") {
  ScratchDir dir;
  state::InventoryDb db(dir / "state");
  std::unique_ptr<state::LmdbStoreIdCache> current;
  check_walk_checkpoints([&]() -> StoreIdCache& {
    current = std::make_unique<state::LmdbStoreIdCache>(db, "c", "fp");
    return *current;
  });

  SUBCASE("another fingerprint drops a walk in progress") {
    state::LmdbStoreIdCache first(db, "c", "fp");
    first.begin_walk("bulk gid://shopify/BulkOperation/1 0");
    first.walk_step({{"A", "1"}}, "bulk gid://shopify/BulkOperation/1 120");
    state::LmdbStoreIdCache other(db, "c", "elsewhere");
    CHECK_FALSE(other.walk_checkpoint());
    CHECK_FALSE(other.complete());  // clears
    CHECK(other.size() == 0);
    CHECK_FALSE(first.walk_checkpoint());
  }
}
