// Warehouse feeds to the store-side feed: sums, filters, listings and bundles, with exact
// quantities.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "fakes.hpp"
#include "sync/projection.hpp"

using namespace pb;
using namespace pb::sync;
using pb::test::make_feed;

namespace {

config::ConnectionConfig with_sources(std::size_t n) {
  config::ConnectionConfig c;
  c.name = "c";
  for (std::size_t i = 0; i < n; ++i) {
    config::SourceConfig s;
    s.name = "w" + std::to_string(i + 1);
    c.warehouses.push_back(s);
  }
  return c;
}

std::map<std::string, Quantity> rows_of(const connectors::Feed& feed) {
  std::map<std::string, Quantity> out;
  for (const auto& row : feed.rows) {
    CHECK_MESSAGE(out.count(row.sku) == 0, "duplicate " << row.sku);
    out[row.sku] = row.quantity;
  }
  // Sorted and unique, as the change detector requires.
  for (std::size_t i = 1; i < feed.rows.size(); ++i) CHECK(feed.rows[i - 1].sku < feed.rows[i].sku);
  return out;
}

connectors::Feed project(const config::ConnectionConfig& c, std::vector<connectors::Feed> feeds) {
  return Projection(c).project(std::move(feeds));
}

using Rows = std::map<std::string, Quantity>;

}  // namespace

TEST_CASE("one warehouse without rules passes through unchanged") {
  const auto c = with_sources(1);
  CHECK(Projection(c).identity());
  auto out = project(c, {make_feed({{"A", 1}, {"B", -2}})});
  CHECK(rows_of(out) == Rows{{"A", 1}, {"B", -2}});
}

TEST_CASE("several warehouses are summed per SKU after their own filters") {
  auto c = with_sources(3);
  c.warehouses[0].skus = {"A*", "B*"};
  c.warehouses[1].exclude_skus = {"B-*"};
  CHECK_FALSE(Projection(c).identity());
  auto out = project(
      c, {make_feed({{"A-1", 5}, {"B-1", 1}, {"C-1", 100}}),
          make_feed({{"A-1", 7}, {"B-1", 40}, {"C-1", 2}}), make_feed({{"A-1", -1}, {"D-1", 3}})});
  // 5 + 7 - 1; B-1: only the first may give it; C-1: not from the first.
  CHECK(rows_of(out) == Rows{{"A-1", 11}, {"B-1", 1}, {"C-1", 2}, {"D-1", 3}});
}

TEST_CASE("a SKU held by a bad row in one warehouse is held in the sum") {
  auto c = with_sources(2);
  auto bad = make_feed({{"B", 2}});
  bad.held_skus = {"A"};
  bad.problems.push_back({7, "A", "quantity is not an integer"});
  auto out = project(c, {make_feed({{"A", 5}, {"B", 1}}), std::move(bad)});
  CHECK(rows_of(out) == Rows{{"B", 3}});
  CHECK(out.held_skus == std::vector<std::string>{"A"});
  REQUIRE(out.problems.size() == 1);
  CHECK(out.problems[0].line == 7);
}

TEST_CASE("listings rename SKUs, sum those listed as one, and include or exclude by glob") {
  auto c = with_sources(1);
  c.listings.map = {{"W-1", "S-1"}, {"W-2", "S-TWIN"}, {"W-3", "S-TWIN"}, {"W-9", "OLD-9"}};
  c.listings.include = {"S-*", "X*"};
  c.listings.exclude = {"S-HIDDEN"};
  auto out = project(
      c,
      {make_feed(
          {{"W-1", 4}, {"W-2", 1}, {"W-3", 2}, {"W-9", 50}, {"X", 8}, {"Y", 9}, {"S-HIDDEN", 3}})});
  // W-9 is listed as OLD-9, which the include globs leave out; Y likewise.
  CHECK(rows_of(out) == Rows{{"S-1", 4}, {"S-TWIN", 3}, {"X", 8}});
  CHECK(Projection(c).store_sku("W-1") == "S-1");
  CHECK(Projection(c).store_sku("Y").empty());
}

TEST_CASE("a bundle is the minimum over components of floor(stock / units)") {
  auto c = with_sources(2);
  c.bundles = {{"BOX", {{"MUG", 1}, {"TEA", 3}}}, {"PAIR", {{"MUG", 2}}}};
  auto out = project(c, {make_feed({{"MUG", 5}, {"TEA", 10}}), make_feed({{"MUG", 2}})});
  // MUG 7, TEA 10: BOX min(7/1, 10/3) = 3; PAIR 7/2 = 3.
  CHECK(rows_of(out) == Rows{{"BOX", 3}, {"MUG", 7}, {"PAIR", 3}, {"TEA", 10}});

  auto less_tea = project(c, {make_feed({{"MUG", 5}, {"TEA", 8}}), make_feed({{"MUG", 2}})});
  CHECK(rows_of(less_tea).at("BOX") == 2);
  // A component no warehouse lists counts as none; negative stock as none.
  auto no_tea = project(c, {make_feed({{"MUG", 5}}), make_feed({{"MUG", -9}})});
  CHECK(rows_of(no_tea) == Rows{{"BOX", 0}, {"MUG", -4}, {"PAIR", 0}});
  // A bundle none of whose components is listed leaves the snapshot.
  auto none = project(c, {make_feed({{"CUP", 1}}), make_feed({})});
  CHECK(rows_of(none) == Rows{{"CUP", 1}});
}

TEST_CASE("a bundle wins over a warehouse SKU of the same name and follows held components") {
  auto c = with_sources(1);
  c.bundles = {{"BOX", {{"MUG", 2}}}};
  auto out = project(c, {make_feed({{"BOX", 100}, {"MUG", 9}})});
  CHECK(rows_of(out) == Rows{{"BOX", 4}, {"MUG", 9}});

  auto held = make_feed({{"BOX", 100}});
  held.held_skus = {"MUG"};
  auto out2 = project(c, {std::move(held)});
  CHECK(rows_of(out2).empty());
  CHECK(out2.held_skus == std::vector<std::string>{"BOX", "MUG"});
}

TEST_CASE("sums saturate instead of wrapping") {
  auto c = with_sources(2);
  const Quantity big = std::numeric_limits<Quantity>::max();
  auto out = project(c, {make_feed({{"A", big}}), make_feed({{"A", 5}})});
  CHECK(rows_of(out).at("A") == big);
}
