// The paged readers behind `inventory` and `diff`, and the --sku glob matcher:
// pages within their bounds, each SKU once and in order, and the same listing
// as one unbounded walk.
#include <doctest/doctest.h>
#include <fnmatch.h>

#include <chrono>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

#include "../temp_dir.hpp"
#include "service/diff_pages.hpp"
#include "service/inventory_pages.hpp"
#include "service/sku_glob.hpp"
#include "sync/change_detector.hpp"

using namespace pb;
using namespace pb::service;

namespace {

std::string sku_at(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "S%05d", i);
  return buf;
}

void fill(state::InventoryDb& db, int n, int pending_every = 3) {
  db.write("c", [&](state::ConnectionTxn& t) {
    for (int i = 0; i < n; ++i) {
      state::ItemRecord r;
      r.quantity = i;
      r.wanted = i;
      r.listed = true;
      if (i % pending_every != 0) r.store_quantity = i;
      t.put_item(sku_at(i), r);
    }
  });
}

InventoryQuery query(std::optional<std::string> glob = {}, bool changed = false,
                     std::optional<std::string> after = {}, std::uint64_t limit = 0) {
  InventoryQuery q;
  q.connection = "c";
  if (glob) q.glob.emplace(*glob);
  q.changed_only = changed;
  q.after = std::move(after);
  q.limit = limit;
  return q;
}

struct Listing {
  std::vector<std::string> skus;
  std::vector<InventoryPage> pages;
};

Listing list_all(state::InventoryDb& db, InventoryQuery q, PageBounds b) {
  Listing out;
  InventoryPager pager(db, std::move(q), b);
  for (int guard = 0; guard < 100000 && !pager.finished(); ++guard) {
    pager.step();
    if (!pager.ready()) continue;
    out.pages.push_back(pager.take());
    for (const auto& item : out.pages.back().items)
      out.skus.emplace_back(item.at("sku").as_string());
  }
  return out;
}

}  // namespace

TEST_CASE("the glob matcher agrees with fnmatch") {
  const char* patterns[] = {"",      "*",     "?",      "A*",    "*1",    "S0?0*",       "[AB]*",
                            "[!A]*", "[^S]?", "[a-c]x", "\\*",   "a\\",   "[",           "[]]",
                            "[]a]*", "[a-]",  "*[0-9]", "**a**", "a*b*c", "[[:digit:]]*"};
  const char* skus[] = {"",  "A",  "S010", "S0100", "B1",  "*",  "a\\", "[", "]",
                        "-", "bx", "dx",   "aXbYc", "abc", "ac", "7up", "a", "Ab1"};
  for (const char* p : patterns)
    for (const char* s : skus) {
      const std::string pattern = p, sku = s;
      CAPTURE(pattern);
      CAPTURE(sku);
      CHECK(SkuGlob(p).matches(s) == (fnmatch(p, s, 0) == 0));
    }
}

TEST_CASE("a glob is bounded in bytes and stars, and costs pattern x SKU at most") {
  CHECK(SkuGlob::problem(std::string(256, 'x')).empty());
  CHECK(SkuGlob::problem(std::string(257, 'x')) ==
        "--sku pattern too long: 257 bytes (at most 256)");
  CHECK(SkuGlob::problem(std::string(16, '*')).empty());
  CHECK(SkuGlob::problem(std::string(17, '*')) == "--sku pattern has 17 '*' (at most 16)");

  std::string pattern;
  for (int i = 0; i < 15; ++i) pattern += "*a";
  pattern += "*b";
  const SkuGlob glob(pattern);
  const std::string sku(200, 'a');
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) CHECK_FALSE(glob.matches(sku));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK(glob.matches(sku + "b"));
}

TEST_CASE("inventory pages are bounded and together list every SKU once, in order") {
  test::TempDir dir;
  state::InventoryDb db(dir.path());
  fill(db, 2500);
  const Listing l = list_all(db, query(), {.max_items = 300, .max_bytes = 1 << 20});
  REQUIRE(l.skus.size() == 2500);
  for (int i = 0; i < 2500; ++i) CHECK(l.skus[static_cast<std::size_t>(i)] == sku_at(i));
  REQUIRE(l.pages.size() == 9);
  for (std::size_t i = 0; i < l.pages.size(); ++i) {
    const auto& page = l.pages[i];
    CHECK(page.items.size() <= 300);
    CHECK(boost::json::serialize(page.items).size() <= page.bytes);
    CHECK(page.last == (i + 1 == l.pages.size()));
    if (!page.last) CHECK(page.next_after == std::string(page.items.back().at("sku").as_string()));
  }
  CHECK_FALSE(l.pages.back().truncated);
  CHECK_FALSE(l.pages.back().next_after);
}

TEST_CASE("a page is bounded in bytes as well as items") {
  test::TempDir dir;
  state::InventoryDb db(dir.path());
  fill(db, 100);
  const Listing l = list_all(db, query(), {.max_items = 1000, .max_bytes = 4000});
  CHECK(l.skus.size() == 100);
  CHECK(l.pages.size() > 5);
  for (const auto& page : l.pages) {
    CHECK(page.bytes <= 4000);
    CHECK(boost::json::serialize(page.items).size() <= 4000);
  }
}

TEST_CASE("limit, after, glob and changed select what the pages list") {
  test::TempDir dir;
  state::InventoryDb db(dir.path());
  fill(db, 1000);
  const PageBounds small{.max_items = 7, .max_bytes = 1 << 20, .max_scanned = 50};

  Listing l = list_all(db, query({}, false, {}, 20), small);
  CHECK(l.skus.size() == 20);
  CHECK(l.pages.back().truncated);
  CHECK(l.pages.back().next_after == sku_at(19));

  l = list_all(db, query({}, false, sku_at(989)), small);
  CHECK(l.skus == std::vector<std::string>{sku_at(990), sku_at(991), sku_at(992), sku_at(993),
                                           sku_at(994), sku_at(995), sku_at(996), sku_at(997),
                                           sku_at(998), sku_at(999)});
  CHECK_FALSE(l.pages.back().truncated);

  l = list_all(db, query("S009?1"), small);
  CHECK(l.skus == std::vector<std::string>{"S00901", "S00911", "S00921", "S00931", "S00941",
                                           "S00951", "S00961", "S00971", "S00981", "S00991"});

  l = list_all(db, query({}, true), small);
  CHECK(l.skus.size() == 334);  // every third SKU has no store quantity
  for (const auto& page : l.pages)
    for (const auto& item : page.items) CHECK(item.at("pending").as_bool());
}

TEST_CASE("a step visits a bounded number of keys, even when none match") {
  test::TempDir dir;
  state::InventoryDb db(dir.path());
  fill(db, 1000);
  InventoryPager pager(db, query("nothing"),
                       {.max_items = 10, .max_bytes = 1 << 20, .max_scanned = 100});
  int steps = 0;
  while (!pager.ready()) {
    pager.step();
    ++steps;
  }
  CHECK(steps == 10);
  const InventoryPage page = pager.take();
  CHECK(page.items.empty());
  CHECK(page.last);
}

TEST_CASE("diff pages list what preview_feed lists, with its total") {
  test::TempDir dir;
  state::InventoryDb db(dir.path());
  fill(db, 500);
  connectors::Feed feed;
  feed.origin = "f";
  for (int i = 0; i < 600; i += 2) feed.rows.push_back({sku_at(i), i + 1, 0});
  const sync::Rules rules{};
  const auto one_shot = sync::preview_feed(db, "c", feed, rules, 0);
  REQUIRE(one_shot.total > 100);

  for (const std::uint64_t limit : {std::uint64_t{0}, std::uint64_t{33}}) {
    DiffPager pager(db, "c", feed, rules, std::nullopt, limit,
                    {.max_items = 10, .max_bytes = 1 << 20});
    std::vector<std::string> skus;
    DiffPage page;
    for (int guard = 0; guard < 10000 && !page.last; ++guard) {
      pager.step();
      if (!pager.ready()) continue;
      page = pager.take();
      CHECK(page.changes.size() <= 10);
      CHECK(boost::json::serialize(page.changes).size() <= page.bytes);
      for (const auto& c : page.changes) skus.emplace_back(c.at("sku").as_string());
    }
    CHECK(page.total == one_shot.total);
    const std::size_t want = limit == 0 ? one_shot.changes.size() : limit;
    REQUIRE(skus.size() == want);
    for (std::size_t i = 0; i < want; ++i) CHECK(skus[i] == one_shot.changes[i].sku);
    CHECK(page.truncated == (limit != 0));
    if (limit != 0) CHECK(page.next_after == skus.back());
  }
}

TEST_CASE("a one-page diff counts every change") {
  test::TempDir dir;
  state::InventoryDb db(dir.path());
  fill(db, 300);
  connectors::Feed feed;
  for (int i = 0; i < 300; ++i) feed.rows.push_back({sku_at(i), i + 1, 0});
  const sync::Rules rules{};
  DiffPager pager(db, "c", feed, rules, sku_at(99), 0, {.max_items = 10, .max_bytes = 1 << 20});
  while (!pager.ready()) pager.step();
  DiffPage first = pager.take();
  CHECK(first.changes.size() == 10);
  CHECK(first.changes.at(0).at("sku").as_string() == sku_at(100));
  pager.count_only();
  while (!pager.ready()) pager.step();
  const DiffPage rest = pager.take();
  CHECK(rest.last);
  CHECK(rest.changes.empty());
  CHECK(rest.total == 200);
}
