#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../temp_dir.hpp"
#include "fakes.hpp"
#include "sync/change_detector.hpp"

using namespace pb;
using namespace pb::sync;
using pb::test::make_feed;

namespace {
std::vector<std::string> pending(state::InventoryDb& db) {
  std::vector<std::string> out;
  db.read("c", [&](state::ConnectionTxn& t) {
    auto cur = t.pending_cursor();
    for (bool ok = cur.seek(); ok; ok = cur.next()) out.emplace_back(cur.key());
  });
  return out;
}
state::ItemRecord item(state::InventoryDb& db, const std::string& sku) {
  state::ItemRecord r;
  db.read("c", [&](state::ConnectionTxn& t) { r = t.item(sku).value(); });
  return r;
}
// Marks every pending SKU as confirmed at its wanted quantity.
void confirm_all(state::InventoryDb& db) {
  db.write("c", [](state::ConnectionTxn& t) {
    std::vector<std::string> skus;
    auto cur = t.pending_cursor();
    for (bool ok = cur.seek(); ok; ok = cur.next()) skus.emplace_back(cur.key());
    for (const auto& s : skus) {
      auto r = *t.item(s);
      r.store_quantity = r.wanted;
      t.put_item(s, r);
    }
  });
}
const Rules keep{};
}  // namespace

TEST_CASE("new SKUs are added and pending, unchanged ones keep their Last Update") {
  pb::test::TempDir dir;
  state::InventoryDb db(dir.path());
  auto r = apply_feed(db, "c", make_feed({{"A", 7}, {"B", 10}, {"C", 3}}), keep, 1000);
  CHECK(r.added == 3);
  CHECK(r.changed == 3);
  CHECK(r.pending == 3);
  CHECK(pending(db) == std::vector<std::string>{"A", "B", "C"});
  confirm_all(db);

  r = apply_feed(db, "c", make_feed({{"A", 5}, {"B", 10}, {"C", 3}}), keep, 2000);
  CHECK(r.added == 0);
  CHECK(r.changed == 1);
  CHECK(pending(db) == std::vector<std::string>{"A"});
  CHECK(item(db, "A").updated_at == 2000);
  CHECK(item(db, "B").updated_at == 1000);
}

TEST_CASE("new SKUs interleaved with stored ones all land") {
  pb::test::TempDir dir;
  state::InventoryDb db(dir.path());
  std::map<std::string, Quantity> first, second;
  for (int i = 0; i < 3000; ++i) {
    const auto sku = "S" + std::to_string(10000 + i);
    if (i % 3 == 0) first[sku] = i;
    second[sku] = i;
  }
  apply_feed(db, "c", make_feed(first), keep, 1);
  const auto r = apply_feed(db, "c", make_feed(second), keep, 2);
  CHECK(r.added == 2000);
  CHECK(r.listed == 3000);
  CHECK(pending(db).size() == 3000);
  CHECK(item(db, "S12999").quantity == 2999);
}

TEST_CASE("missing SKUs are left alone with keep and pushed as 0 with zero") {
  pb::test::TempDir dir;
  state::InventoryDb db(dir.path());
  apply_feed(db, "c", make_feed({{"A", 1}, {"B", 2}, {"C", 3}, {"D", 4}}), keep, 1);
  confirm_all(db);

  SUBCASE("keep") {
    const auto r = apply_feed(db, "c", make_feed({{"A", 1}, {"B", 2}, {"C", 3}}), keep, 2);
    CHECK(r.unlisted == 1);
    CHECK(r.listed == 3);
    CHECK(pending(db).empty());
    CHECK_FALSE(item(db, "D").listed);
    CHECK(item(db, "D").quantity == 4);
    // It comes back as a normal SKU when the feed lists it again.
    apply_feed(db, "c", make_feed({{"A", 1}, {"B", 2}, {"C", 3}, {"D", 6}}), keep, 3);
    CHECK(pending(db) == std::vector<std::string>{"D"});
  }
  SUBCASE("zero") {
    const auto r = apply_feed(db, "c", make_feed({{"A", 1}, {"B", 2}, {"C", 3}}),
                              Rules{.missing_skus = MissingSkus::zero}, 2);
    CHECK(r.zeroed == 1);
    CHECK(item(db, "D").quantity == 0);
    CHECK(item(db, "D").wanted == 0);
    CHECK(pending(db) == std::vector<std::string>{"D"});
  }
}

TEST_CASE("held SKUs (bad rows) keep their previous state even with missing_skus: zero") {
  pb::test::TempDir dir;
  state::InventoryDb db(dir.path());
  apply_feed(db, "c", make_feed({{"A", 1}, {"B", 2}, {"C", 3}}), keep, 1);
  confirm_all(db);
  auto feed = make_feed({{"A", 1}, {"C", 3}});
  feed.held_skus = {"B"};
  const auto r = apply_feed(db, "c", feed, Rules{.missing_skus = MissingSkus::zero}, 2);
  CHECK(r.zeroed == 0);
  CHECK(item(db, "B").quantity == 2);
  CHECK(item(db, "B").listed);
  CHECK(pending(db).empty());
}

TEST_CASE("an empty feed or one that zeroes most of the catalogue is refused and changes nothing") {
  pb::test::TempDir dir;
  state::InventoryDb db(dir.path());
  CHECK_THROWS_WITH_AS(apply_feed(db, "c", make_feed({}), keep, 1),
                       doctest::Contains("no usable rows"), FeedRefused);
  apply_feed(db, "c", make_feed({{"A", 1}, {"B", 2}, {"C", 3}, {"D", 4}}), keep, 1);
  confirm_all(db);

  CHECK_THROWS_WITH_AS(
      apply_feed(db, "c", make_feed({{"A", 0}, {"B", 0}, {"C", 0}, {"D", 4}}), keep, 2),
      doctest::Contains("would set 3 of 4 known SKUs to 0"), FeedRefused);
  CHECK_THROWS_AS(
      apply_feed(db, "c", make_feed({{"A", 1}}), Rules{.missing_skus = MissingSkus::zero}, 2),
      FeedRefused);
  CHECK(item(db, "A").updated_at == 1);
  CHECK(item(db, "B").quantity == 2);
  CHECK(pending(db).empty());
  // Exactly half is allowed.
  CHECK_NOTHROW(apply_feed(db, "c", make_feed({{"A", 0}, {"B", 0}, {"C", 3}, {"D", 4}}), keep, 3));
  CHECK(pending(db) == std::vector<std::string>{"A", "B"});
}

TEST_CASE("a changed buffer re-marks SKUs whose wanted quantity moves") {
  pb::test::TempDir dir;
  state::InventoryDb db(dir.path());
  apply_feed(db, "c", make_feed({{"A", 10}, {"B", 1}}), keep, 1);
  confirm_all(db);
  const auto r = apply_feed(db, "c", make_feed({{"A", 10}, {"B", 1}}), Rules{.buffer = 2}, 2);
  CHECK(r.changed == 0);
  CHECK(item(db, "A").wanted == 8);
  CHECK(item(db, "B").wanted == 0);
  CHECK(pending(db) == std::vector<std::string>{"A", "B"});
}

TEST_CASE("a preview says what a Smart Sync would push, and why, without writing") {
  pb::test::TempDir dir;
  state::InventoryDb db(dir.path());
  apply_feed(db, "c", make_feed({{"A", 7}, {"B", 10}, {"C", 3}, {"D", 1}}), keep, 1);
  confirm_all(db);
  db.write("c", [](state::ConnectionTxn& t) {
    auto c = *t.item("C");
    c.error = "unknown SKU";
    t.put_item("C", c);
  });
  const auto p = preview_feed(
      db, "c", make_feed({{"A", 5}, {"B", 10}, {"C", 3}, {"D", 0}, {"E", 2}}), keep, 0);
  REQUIRE(p.changes.size() == 4);
  CHECK(p.total == 4);
  CHECK(p.changes[0].sku == "A");
  CHECK(p.changes[0].reason == "changed");
  CHECK(p.changes[0].previous_quantity == 7);
  CHECK(p.changes[0].quantity == 5);
  CHECK(p.changes[0].store_quantity == 7);
  CHECK(p.changes[1].sku == "C");
  CHECK(p.changes[1].reason == "rejected");
  CHECK(p.changes[2].sku == "D");
  CHECK(p.changes[2].reason == "zeroed");
  CHECK(p.changes[3].sku == "E");
  CHECK(p.changes[3].reason == "new");
  CHECK_FALSE(p.changes[3].previous_quantity.has_value());
  // Nothing was written.
  CHECK(item(db, "A").quantity == 7);
  CHECK(pending(db) == std::vector<std::string>{"C"});
  const auto limited = preview_feed(db, "c", make_feed({{"A", 5}, {"B", 9}}), keep, 1);
  CHECK(limited.total == 2);
  CHECK(limited.changes.size() == 1);
}

TEST_CASE("a SKU confirmed longer ago than repush_after is pushed again") {
  pb::test::TempDir dir;
  state::InventoryDb db(dir.path());
  const Rules rules{.repush_after = 1000};
  apply_feed(db, "c", make_feed({{"A", 1}, {"B", 2}}), rules, 10);
  confirm_all(db);
  db.write("c", [](state::ConnectionTxn& t) {
    for (const auto* sku : {"A", "B"}) {
      auto r = *t.item(sku);
      r.confirmed_at = std::string(sku) == "A" ? 100 : 600;
      t.put_item(sku, r);
    }
  });
  // At 1099 nothing is stale yet; at 1100 A is (confirmed at 100); B only from 1600.
  auto r = apply_feed(db, "c", make_feed({{"A", 1}, {"B", 2}}), rules, 1099);
  CHECK(r.stale == 0);
  CHECK(pending(db).empty());
  // `beectl diff` looks at the real clock, long after both confirmations.
  const auto preview = preview_feed(db, "c", make_feed({{"A", 1}, {"B", 2}}), rules, 0);
  REQUIRE(preview.total == 2);
  CHECK(preview.changes[0].reason == "stale");
  r = apply_feed(db, "c", make_feed({{"A", 1}, {"B", 2}}), rules, 1100);
  CHECK(r.stale == 1);
  CHECK(pending(db) == std::vector<std::string>{"A"});
  CHECK(item(db, "A").in_doubt);
  // Off when repush_after is 0.
  confirm_all(db);
  db.write("c", [](state::ConnectionTxn& t) {
    auto a = *t.item("A");
    a.in_doubt = false;
    a.confirmed_at = 1;
    t.put_item("A", a);
  });
  r = apply_feed(db, "c", make_feed({{"A", 1}, {"B", 2}}), keep, 1'000'000);
  CHECK(r.stale == 0);
  CHECK(pending(db).empty());
}

TEST_CASE("mark_stale finds the SKUs a delta did not pass") {
  pb::test::TempDir dir;
  state::InventoryDb db(dir.path());
  const Rules rules{.repush_after = 1000};
  apply_feed(db, "c", make_feed({{"A", 1}, {"B", 2}, {"C", 3}}), rules, 10);
  confirm_all(db);
  db.write("c", [](state::ConnectionTxn& t) {
    for (const auto* sku : {"A", "B", "C"}) {
      auto r = *t.item(sku);
      r.confirmed_at = std::string(sku) == "B" ? 900 : 100;
      t.put_item(sku, r);
    }
  });
  // A delta that changes B only: A and C are stale at 1200, B is not (and is pending anyway).
  auto delta = make_feed({{"B", 5}});
  delta.delta = true;
  const auto d = apply_delta(db, "c", delta, rules, 1200);
  CHECK((d.changed == 1 && d.pending == 1));
  CHECK(mark_stale(db, "c", rules, 1200) == 2);
  CHECK(pending(db) == std::vector<std::string>{"A", "B", "C"});
  CHECK(item(db, "A").in_doubt);
  CHECK_FALSE(item(db, "B").in_doubt);
  CHECK(mark_stale(db, "c", Rules{}, 1'000'000) == 0);  // repush_after 0: never
}

TEST_CASE("apply_delta updates only its rows and keeps the others as they are") {
  pb::test::TempDir dir;
  state::InventoryDb db(dir.path());
  apply_feed(db, "c", make_feed({{"A", 1}, {"B", 2}}), keep, 10);
  confirm_all(db);
  auto delta = make_feed({{"B", 2}, {"C", 7}});
  delta.delta = true;
  delta.held_skus = {"A"};
  const auto r = apply_delta(db, "c", delta, keep, 20);
  CHECK((r.added == 1 && r.changed == 1 && r.pending == 1));
  CHECK(pending(db) == std::vector<std::string>{"C"});
  CHECK(item(db, "A").quantity == 1);
  CHECK(item(db, "A").listed);
  CHECK(item(db, "B").updated_at == 10);  // same quantity: not touched
  CHECK(item(db, "C").quantity == 7);
  // An empty delta is no change, not a refused feed.
  auto empty = make_feed({});
  empty.delta = true;
  CHECK(apply_delta(db, "c", empty, keep, 30).changed == 0);
}

TEST_CASE("count_pending counts the change index") {
  pb::test::TempDir dir;
  state::InventoryDb db(dir.path());
  CHECK(count_pending(db, "c") == 0);
  apply_feed(db, "c", make_feed({{"A", 1}, {"B", 2}, {"C", 3}}), Rules{}, 100);
  CHECK(count_pending(db, "c") == 3);
  confirm_all(db);
  CHECK(count_pending(db, "c") == 0);
}

TEST_CASE("a source's last read is remembered only when it can be trusted next time") {
  pb::test::TempDir dir;
  state::InventoryDb db(dir.path());
  CHECK_FALSE(last_source_read(db, "c", "w", "f1").has_value());

  auto feed = make_feed({{"A", 1}});
  feed.validator = "etag-1";
  feed.cursor = "42";
  remember_source_read(db, "c", "w", "f1", feed, 500);
  auto last = last_source_read(db, "c", "w", "f1");
  REQUIRE(last.has_value());
  CHECK(last->validator == "etag-1");
  CHECK(last->cursor == "42");
  CHECK(last->read_at == 500);
  // Another configuration of the source: the memory does not apply.
  CHECK_FALSE(last_source_read(db, "c", "w", "f2").has_value());
  CHECK_FALSE(last_source_read(db, "c", "", "f1").has_value());

  // Not remembered: an unchanged feed, one with bad rows, one with nothing to hand back.
  auto unchanged = feed;
  unchanged.unchanged = true;
  unchanged.validator = "etag-2";
  remember_source_read(db, "c", "w", "f1", unchanged, 600);
  auto bad = feed;
  bad.validator = "etag-3";
  bad.problems.push_back({3, "B", "bad quantity"});
  remember_source_read(db, "c", "w", "f1", bad, 700);
  auto bare = make_feed({{"A", 2}});
  remember_source_read(db, "c", "w", "f1", bare, 800);
  last = last_source_read(db, "c", "w", "f1");
  REQUIRE(last.has_value());
  CHECK(last->validator == "etag-1");
  CHECK(last->read_at == 500);

  feed.validator = "etag-4";
  remember_source_read(db, "c", "w", "f2", feed, 900);
  CHECK_FALSE(last_source_read(db, "c", "w", "f1").has_value());
  CHECK(last_source_read(db, "c", "w", "f2").value().validator == "etag-4");
}

TEST_CASE("the zeroing guard weighs a feed against the most SKUs in stock over its window") {
  pb::test::TempDir dir;
  state::InventoryDb db(dir.path());
  std::map<std::string, Quantity> rows;
  for (int i = 0; i < 1000; ++i) rows["S" + std::to_string(1000 + i)] = 5;
  auto zero_first = [&](int n) {
    auto feed = rows;
    int i = 0;
    for (auto& [sku, q] : feed) q = i++ < n ? 0 : 5;
    return make_feed(feed);
  };
  constexpr UnixMillis kDay = 86'400'000;
  const UnixMillis t0 = 20000 * kDay;
  apply_feed(db, "c", make_feed(rows), keep, t0);
  confirm_all(db);

  // Each feed zeroes at most half of what is listed, yet 50 %, 50.1 % and 60 % in a row would
  // zero 60 % of the catalogue: the second is refused against the week's 1000 in stock.
  CHECK_NOTHROW(apply_feed(db, "c", zero_first(500), keep, t0 + 1));
  CHECK_THROWS_WITH_AS(apply_feed(db, "c", zero_first(501), keep, t0 + 2),
                       doctest::Contains("would leave 499 SKUs in stock, fewer than half of the "
                                         "1000 in stock at the most over the last 7 days"),
                       FeedRefused);
  CHECK_THROWS_AS(apply_feed(db, "c", zero_first(600), keep, t0 + 6 * kDay), FeedRefused);
  CHECK(item(db, "S1500").quantity == 5);
  // Past the window, the 1000 are forgotten: the 500 of the last accepted feed count.
  CHECK_NOTHROW(apply_feed(db, "c", zero_first(600), keep, t0 + 8 * kDay));

  // --allow-zeroing lets one feed through and restarts the window from it.
  CHECK_THROWS_AS(apply_feed(db, "c", zero_first(900), keep, t0 + 9 * kDay), FeedRefused);
  CHECK_NOTHROW(apply_feed(db, "c", zero_first(900), keep, t0 + 9 * kDay, true));
  CHECK(item(db, "S1899").quantity == 0);
  CHECK_NOTHROW(apply_feed(db, "c", zero_first(920), keep, t0 + 9 * kDay + 1));
  state::ConnectionRecord record;
  db.read("c", [&](state::ConnectionTxn& t) { record = t.connection(); });
  REQUIRE(record.stock_marks.size() == 1);
  CHECK(record.stock_marks[0].in_stock == 100);
}

TEST_CASE("a stored item that does not decode fails the feed with RecordError, not a crash") {
  pb::test::TempDir dir;
  state::InventoryDb db(dir.path());
  apply_feed(db, "c", make_feed({{"A", 1}, {"B", 2}}), keep, 1);
  db.write("c", [](state::ConnectionTxn& t) {
    t.txn().put(t.txn().open_db("items"), std::string("c\0B", 3), "\x01");
  });
  CHECK_THROWS_WITH_AS(apply_feed(db, "c", make_feed({{"A", 2}, {"B", 2}}), keep, 2),
                       doctest::Contains("item record is truncated"), state::RecordError);
  CHECK(item(db, "A").quantity == 1);
}
