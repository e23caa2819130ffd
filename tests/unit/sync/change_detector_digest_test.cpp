// The digest's fast path against the full merge it stands in for: the same feeds applied both
// ways must leave the same items, change index and counts.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "../temp_dir.hpp"
#include "fakes.hpp"
#include "sync/change_detector.hpp"
#include "sync/change_detector_digest.hpp"

using namespace pb;
using namespace pb::sync;
using pb::test::make_feed;

namespace {

struct Stored {
  std::map<std::string, std::string> items;  // SKU -> the record's fields, printed
  std::vector<std::string> pending;
};

std::string show(const state::ItemRecord& r) {
  return std::to_string(r.quantity) + "/" + std::to_string(r.updated_at) + "/" +
         std::to_string(r.wanted) + "/" + (r.listed ? "L" : "-") + "/" +
         (r.store_quantity ? std::to_string(*r.store_quantity) : "none") + "/" +
         std::to_string(r.confirmed_at) + "/" + r.error + "/" + (r.in_doubt ? "D" : "-");
}

Stored stored(state::InventoryDb& db) {
  Stored out;
  db.read("c", [&](state::ConnectionTxn& t) {
    auto cur = t.item_cursor();
    for (bool ok = cur.seek(); ok; ok = cur.next())
      out.items[std::string(cur.key())] = show(state::decode_item(cur.value()));
    auto pen = t.pending_cursor();
    for (bool ok = pen.seek(); ok; ok = pen.next()) out.pending.emplace_back(pen.key());
  });
  return out;
}

// The store confirms every other pending SKU; the rest are rejected or in doubt.
void push_some(state::InventoryDb& db, std::mt19937& rng) {
  db.write("c", [&](state::ConnectionTxn& t) {
    std::vector<std::string> skus;
    auto cur = t.pending_cursor();
    for (bool ok = cur.seek(); ok; ok = cur.next()) skus.emplace_back(cur.key());
    for (const auto& s : skus) {
      auto r = *t.item(s);
      const auto roll = rng() % 10;
      if (roll < 7) {
        r.store_quantity = r.wanted;
        r.error.clear();
        r.in_doubt = false;
      } else if (roll == 7) {
        r.error = "refused";
      } else if (roll == 8) {
        r.in_doubt = true;
      }
      t.put_item(s, r);
    }
  });
}

void check_counts(const DetectResult& full, const DetectResult& fast) {
  CHECK(full.rows == fast.rows);
  CHECK(full.known_before == fast.known_before);
  CHECK(full.added == fast.added);
  CHECK(full.changed == fast.changed);
  CHECK(full.zeroed == fast.zeroed);
  CHECK(full.unlisted == fast.unlisted);
  CHECK(full.listed == fast.listed);
  CHECK(full.pending == fast.pending);
  CHECK(full.in_stock_before == fast.in_stock_before);
  CHECK(full.in_stock == fast.in_stock);
}

// Feeds over a pool of SKUs: each round drops a few, brings a few back, changes a few
// quantities (some to 0) and adds new ones.
std::map<std::string, Quantity> next_feed(const std::map<std::string, Quantity>& last,
                                          std::mt19937& rng, int round) {
  std::map<std::string, Quantity> feed;
  for (int i = 0; i < 400; ++i) {
    const auto sku = "S" + std::to_string(1000 + i * 7 + (i % 5 == 0 ? round % 3 : 0));
    const auto roll = rng() % 20;
    if (roll == 0) continue;  // gone this round
    auto it = last.find(sku);
    Quantity q = it != last.end() ? it->second : static_cast<Quantity>(rng() % 50);
    if (roll == 1) q = 0;
    if (roll == 2) q = static_cast<Quantity>(rng() % 50);
    feed[sku] = q;
  }
  return feed;
}

void run_rounds(const Rules& rules, bool allow_zeroing) {
  pb::test::TempDir dir_full, dir_fast;
  state::InventoryDb full(dir_full.path()), fast(dir_fast.path());
  std::mt19937 rng_feed(7), rng_full(11), rng_fast(11);
  std::map<std::string, Quantity> last;
  std::shared_ptr<const FeedDigest> digest;
  int fast_rounds = 0;
  for (int round = 0; round < 40; ++round) {
    CAPTURE(round);
    last = next_feed(last, rng_feed, round);
    const auto feed = make_feed(last);
    const UnixMillis now = 1000 + round;
    const auto a = apply_feed(full, "c", feed, rules, now, allow_zeroing);
    DetectResult b;
    std::shared_ptr<const FeedDigest> patched;
    if (digest_applies(digest.get(), feed, rules)) {
      b = apply_feed_with_digest(fast, "c", feed, rules, *digest, now, allow_zeroing);
      patched = patch_digest(*digest, differences(feed, *digest), rules);
      ++fast_rounds;
    } else {
      b = apply_feed(fast, "c", feed, rules, now, allow_zeroing);
    }
    digest = digest_of(feed, rules, b);
    // The digest sync_run keeps is the old one patched with the differences: the same.
    if (patched) {
      CHECK(patched->skus == digest->skus);
      CHECK(patched->ends == digest->ends);
      CHECK(patched->quantities == digest->quantities);
    }
    check_counts(a, b);
    const auto sa = stored(full);
    const auto sb = stored(fast);
    CHECK(sa.items == sb.items);
    CHECK(sa.pending == sb.pending);
    push_some(full, rng_full);
    push_some(fast, rng_fast);
  }
  CHECK(fast_rounds == 39);
}

}  // namespace

TEST_CASE("the digest's fast path leaves what the full merge leaves (missing_skus: keep)") {
  Rules rules;
  rules.buffer = 2;
  run_rounds(rules, false);
}

TEST_CASE("the digest's fast path leaves what the full merge leaves (missing_skus: zero)") {
  Rules rules;
  rules.missing_skus = MissingSkus::zero;
  rules.minimum_distributable = 3;
  run_rounds(rules, true);
}

TEST_CASE("the digest stands only for the rules and the kind of feed it was made from") {
  const auto feed = make_feed({{"A", 1}, {"B", 2}});
  Rules rules;
  const auto digest = digest_of(feed, rules, DetectResult{});
  REQUIRE(digest);
  CHECK(digest->size() == 2);
  CHECK(digest->sku(1) == "B");
  CHECK(digest_applies(digest.get(), feed, rules));
  Rules other = rules;
  other.buffer = 1;
  CHECK_FALSE(digest_applies(digest.get(), feed, other));
  auto delta = feed;
  delta.delta = true;
  CHECK_FALSE(digest_applies(digest.get(), delta, rules));
  auto held = feed;
  held.held_skus = {"C"};
  CHECK_FALSE(digest_applies(digest.get(), held, rules));
  CHECK_FALSE(digest_of(held, rules, DetectResult{}));
}

TEST_CASE("the fast path's zeroing guard refuses what the full merge refuses, writing nothing") {
  pb::test::TempDir dir;
  state::InventoryDb db(dir.path());
  const Rules rules;
  std::map<std::string, Quantity> rows;
  for (int i = 0; i < 10; ++i) rows["S" + std::to_string(i)] = 5;
  const auto first = make_feed(rows);
  const auto counts = apply_feed(db, "c", first, rules, 1000);
  const auto digest = digest_of(first, rules, counts);
  for (int i = 0; i < 6; ++i) rows["S" + std::to_string(i)] = 0;
  const auto before = stored(db);
  CHECK_THROWS_AS(apply_feed_with_digest(db, "c", make_feed(rows), rules, *digest, 2000, false),
                  FeedRefused);
  CHECK(stored(db).items == before.items);
}

TEST_CASE("a digest is requantified in place only when no SKU comes or goes") {
  const Rules rules;
  std::map<std::string, Quantity> rows{{"A", 1}, {"B", 2}, {"C", 3}, {"D", 4}};
  auto digest = make_digest(make_feed(rows), rules);
  REQUIRE(digest);
  rows["B"] = 20;
  rows["D"] = 0;
  auto feed = make_feed(rows);
  REQUIRE(requantify_in_place(*digest, differences(feed, *digest)));
  const auto fresh = make_digest(feed, rules);
  CHECK(digest->skus == fresh->skus);
  CHECK(digest->ends == fresh->ends);
  CHECK(digest->quantities == fresh->quantities);
  // A new SKU (with a requantified one) or a gone one: left as it was, for patch_digest.
  for (const bool add : {true, false}) {
    auto changed = rows;
    changed["C"] = 30;
    if (add)
      changed["BB"] = 5;
    else
      changed.erase("A");
    const auto before = digest->quantities;
    CHECK_FALSE(requantify_in_place(*digest, differences(make_feed(changed), *digest)));
    CHECK(digest->quantities == before);
  }
}
