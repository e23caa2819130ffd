// The digest's sieve: its answers, and that a feed read through it leads to what the whole feed
// leads to (the same differences, the same stored items, the same runs) whenever it is used.
#include "sync/digest_sieve.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include "../temp_dir.hpp"
#include "connectors/warehouse/csv/csv_feed_parser.hpp"
#include "connectors/warehouse/csv/csv_warehouse.hpp"
#include "fakes.hpp"
#include "run_to_end.hpp"
#include "sieve_sides.hpp"
#include "sync/change_detector.hpp"
#include "sync/change_detector_digest.hpp"
#include "sync/connection_sources.hpp"
#include "sync/sync_run.hpp"

using namespace pb;
using namespace pb::sync;
using pb::test::make_feed;
using pb::test::Side;
using pb::test::stored_items;
namespace asio = boost::asio;

namespace {

std::shared_ptr<const FeedDigest> digest_from(const std::map<std::string, Quantity>& rows) {
  return make_digest(make_feed(rows), Rules{});
}

// "SKU=Q(was)@at;..." : a list of differences that compares and prints in one string.
std::string show(const std::vector<Difference>& diffs) {
  std::string out;
  for (const auto& d : diffs)
    out += d.sku + "=" + (d.quantity ? std::to_string(*d.quantity) : "gone") + "(" +
           (d.was ? std::to_string(*d.was) : "new") + ")@" + std::to_string(d.at) + ";";
  return out;
}

}  // namespace

TEST_CASE("the sieve knows a sorted feed's unchanged rows, once each") {
  const auto digest = digest_from({{"A", 1}, {"B", 2}, {"C", 3}, {"D", 4}, {"F", 6}});
  DigestSieve sieve(digest);
  CHECK(sieve.known("A", 1));
  CHECK_FALSE(sieve.known("B", 20));  // requantified
  CHECK_FALSE(sieve.known("BB", 1));  // not in the digest
  CHECK(sieve.known("D", 4));         // C is gone
  CHECK_FALSE(sieve.known("E", 5));   // between D and F
  CHECK(sieve.known("F", 6));
  CHECK_FALSE(sieve.known("G", 7));  // past the end
  CHECK_FALSE(sieve.spoiled());
  CHECK(sieve.count() == 3);
  CHECK(sieve.sieved(0));
  CHECK_FALSE(sieve.sieved(1));
  CHECK_FALSE(sieve.sieved(2));
  CHECK(sieve.sieved(3));
  CHECK(sieve.next_unsieved(0) == 1);
  CHECK(sieve.next_unsieved(3) == 5);  // F is sieved: the end
}

TEST_CASE("the sieve finds SKUs of unsorted input, before the first entry and far ahead") {
  std::map<std::string, Quantity> rows;
  for (int i = 0; i < 100; ++i) rows["S" + std::to_string(100 + i)] = i;
  DigestSieve sieve(digest_from(rows));
  CHECK(sieve.known("S190", 90));  // far ahead: the binary search
  CHECK(sieve.known("S105", 5));   // backwards
  CHECK_FALSE(sieve.known("A", 0));
  CHECK(sieve.known("S100", 0));  // the first entry
  CHECK(sieve.known("S199", 99));
  CHECK_FALSE(sieve.known("S1050", 5));  // between S105 and S106
  CHECK(sieve.known("S106", 6));
  CHECK(sieve.known("S108", 8));  // a step forward
  CHECK_FALSE(sieve.known("S150", 0));
  CHECK(sieve.count() == 6);
  CHECK_FALSE(sieve.spoiled());
  // Every entry across the words of the bitmap: what is left unsieved, in order.
  std::vector<std::size_t> open;
  for (std::size_t j = sieve.next_unsieved(0); j < 100; j = sieve.next_unsieved(j + 1))
    open.push_back(j);
  CHECK(open.size() == 94);
  CHECK(std::find(open.begin(), open.end(), 90) == open.end());
  CHECK(std::find(open.begin(), open.end(), 99) == open.end());
  CHECK(open.front() == 1);
  CHECK(open.back() == 98);
}

TEST_CASE("a SKU of the digest named twice spoils the sieve: it knows nothing more") {
  for (const bool first_equal : {true, false}) {
    CAPTURE(first_equal);
    DigestSieve sieve(digest_from({{"A", 1}, {"B", 2}, {"C", 3}}));
    CHECK(sieve.known("A", 1));
    CHECK(sieve.known("B", first_equal ? 2 : 20) == first_equal);
    CHECK_FALSE(sieve.known("B", first_equal ? 5 : 2));
    CHECK(sieve.spoiled());
    CHECK_FALSE(sieve.known("C", 3));  // would be known, but the sieve is spoiled
    // A restarted read starts clean.
    sieve.restart();
    CHECK_FALSE(sieve.spoiled());
    CHECK(sieve.count() == 0);
    CHECK(sieve.known("A", 1));
    CHECK(sieve.known("C", 3));
  }
  // A SKU the digest does not hold may come twice: the parser sees to it, with every row kept.
  DigestSieve sieve(digest_from({{"A", 1}}));
  CHECK_FALSE(sieve.known("Z", 1));
  CHECK_FALSE(sieve.known("Z", 1));
  CHECK_FALSE(sieve.spoiled());
}

TEST_CASE("a sieve is made only for a digest the feed can meet, and says when a feed is unusable") {
  Rules rules;
  auto digest = make_digest(make_feed({{"A", 1}, {"B", 2}}), rules);
  CHECK_FALSE(sieve_for(nullptr, rules));
  Rules other = rules;
  other.buffer = 3;
  CHECK_FALSE(sieve_for(digest, other));
  auto sieve = sieve_for(digest, rules);
  REQUIRE(sieve);
  CHECK(sieve->known("A", 1));
  connectors::Feed feed = make_feed({{"B", 3}});
  CHECK(sieved_feed_unusable(feed, *sieve) == "");  // nothing dropped: a whole feed
  feed.sieved = 1;
  CHECK(sieved_feed_unusable(feed, *sieve) == "");
  CHECK(show(differences_of(feed, *digest, sieve)) == "B=3(2)@1;");
  CHECK_FALSE(sieve->digest());  // let go: the run may change the digest in place now
  auto held = feed;
  held.held_skus = {"C"};
  CHECK(sieved_feed_unusable(held, *sieve) != "");
  auto delta = feed;
  delta.delta = true;
  CHECK(sieved_feed_unusable(delta, *sieve) != "");
  auto miscounted = feed;
  miscounted.sieved = 2;
  CHECK(sieved_feed_unusable(miscounted, *sieve) != "");
  CHECK_THROWS_AS(differences_of(feed, *digest, nullptr), std::logic_error);
  CHECK_FALSE(sieve->known("A", 1));  // let go: it knows nothing more
  DigestSieve twice(digest);
  CHECK(twice.known("B", 2));
  CHECK_FALSE(twice.known("B", 2));
  CHECK(sieved_feed_unusable(feed, twice) != "");  // spoiled
  connectors::Feed all_sieved;  // no row kept, every row known: still a feed the digest meets
  all_sieved.sieved = 2;
  CHECK(digest_applies(digest.get(), all_sieved, rules));
  // A digest that no longer sieves stays so when patched for the next feed.
  digest->sieve = false;
  CHECK_FALSE(sieve_for(digest, rules));
  const auto patched = patch_digest(*digest, differences(make_feed({{"C", 1}}), *digest), rules);
  CHECK(patched->size() == 1);
  CHECK_FALSE(patched->sieve);
}

namespace {

struct Round {
  std::string csv;
  std::map<std::string, Quantity> applied;  // the rows a clean feed leaves (the next digest)
};

// The next feed over a pool of SKUs, as CSV: some gone, some new, some requantified, most as
// they were; now and then unsorted, with a duplicate, a bad row with or without a SKU.
Round next_round(const std::map<std::string, Quantity>& last, std::mt19937& rng, int pool) {
  std::vector<std::pair<std::string, std::string>> cells;
  for (int i = 0; i < pool; ++i) {
    const auto sku = "S" + std::to_string(10000 + i * 3);
    const auto roll = rng() % 40;
    const auto it = last.find(sku);
    // Gone this time, or still absent (the first feed has them all).
    if (roll == 0 || (it == last.end() && !last.empty() && roll > 3)) continue;
    Quantity q = it != last.end() ? it->second : static_cast<Quantity>(rng() % 30);
    if (roll == 1) q = static_cast<Quantity>(rng() % 30) - 2;
    cells.emplace_back(sku, std::to_string(q));
  }
  const auto kind = rng() % 8;
  const auto pick = [&] {
    return cells.empty() ? std::string("S10000") : cells[rng() % cells.size()].first;
  };
  if (kind == 1) std::shuffle(cells.begin(), cells.end(), rng);
  if (kind == 2) std::swap(cells.front(), cells.back());
  if (kind == 3) cells.emplace_back(pick(), std::to_string(rng() % 30));  // a duplicate
  if (kind == 4) cells.emplace_back(pick(), "x");                         // a bad row, held
  if (kind == 5) cells.emplace_back("", "3");                             // a bad row, no SKU
  if (kind == 6) cells.emplace_back("S" + std::to_string(rng()), "7");    // new, at the end
  Round out;
  out.csv = "sku,quantity\n";
  for (const auto& [sku, q] : cells) out.csv += sku + "," + q + "\n";
  return out;
}

std::map<std::string, Quantity> rows_of(const connectors::Feed& feed) {
  std::map<std::string, Quantity> out;
  for (const auto& r : feed.rows) out[r.sku] = r.quantity;
  return out;
}

}  // namespace

TEST_CASE("a feed read through the sieve gives the whole feed's differences and stored items") {
  for (const auto duplicates : {DuplicatePolicy::error, DuplicatePolicy::sum}) {
    CAPTURE(static_cast<int>(duplicates));
    pb::test::TempDir dir_whole, dir_sieved;
    state::InventoryDb whole_db(dir_whole.path()), sieved_db(dir_sieved.path());
    Rules rules;
    rules.buffer = 1;
    std::mt19937 rng(duplicates == DuplicatePolicy::sum ? 5 : 6);
    std::map<std::string, Quantity> last;
    std::shared_ptr<FeedDigest> digest;
    int used = 0, unusable = 0;
    for (int round = 0; round < 120; ++round) {
      CAPTURE(round);
      const auto r = next_round(last, rng, 300);
      connectors::CsvFeedOptions options;
      options.duplicates = duplicates;
      options.chunk_bytes = 1 + rng() % 200;
      const auto whole = connectors::parse_csv_feed(r.csv, options, "feed.csv");
      auto sieve = sieve_for(digest, rules);
      options.sieve = sieve.get();
      // Both parser paths: the string (general reader) and the stream (the fast path).
      std::istringstream in(r.csv);
      const auto sieved = round % 2 == 0 ? connectors::parse_csv_feed(r.csv, options, "feed.csv")
                                         : connectors::parse_csv_feed(in, options, "feed.csv");
      const UnixMillis now = 1000 + round;
      DetectResult a, b;
      if (sieve && sieved.sieved > 0 && sieved_feed_unusable(sieved, *sieve).empty()) {
        ++used;
        REQUIRE(digest_applies(digest.get(), sieved, rules));
        REQUIRE(digest_applies(digest.get(), whole, rules));
        CHECK(sieved.rows.size() + sieved.sieved == whole.rows.size());
        CHECK(sieved.problems.size() == whole.problems.size());
        const auto expected = differences(whole, *digest);
        CHECK(show(differences(sieved, *digest, *sieve)) == show(expected));
        a = apply_feed_with_digest(whole_db, "c", whole, rules, *digest, now, true);
        b = apply_differences(sieved_db, "c", differences_of(sieved, *digest, sieve),
                              sieved.rows.size() + sieved.sieved, sieved.origin, rules,
                              {digest->listed, digest->in_stock}, now, true);
        CHECK(a.rows == b.rows);
        CHECK(a.changed == b.changed);
        CHECK(a.listed == b.listed);
        CHECK(a.pending == b.pending);
      } else {
        if (sieved.sieved > 0) ++unusable;
        a = apply_feed(whole_db, "c", whole, rules, now, true);
        b = apply_feed(sieved_db, "c", whole, rules, now, true);
      }
      CHECK(stored_items(whole_db, "c", true) == stored_items(sieved_db, "c", true));
      digest = make_digest(whole, rules);
      if (digest) {
        digest->listed = a.listed;
        digest->in_stock = a.in_stock;
      }
      if (whole.held_skus.empty()) last = rows_of(whole);
    }
    CHECK(used > 50);
    CHECK(unusable > 5);
  }
}

TEST_CASE("runs reading through the sieve leave what runs reading whole feeds leave") {
  pb::test::SieveTwins twins;
  std::mt19937 rng(3);
  std::map<std::string, Quantity> last;
  int runs = 0;
  for (int round = 0; round < 30; ++round) {
    CAPTURE(round);
    const auto r = next_round(last, rng, 200);
    twins.round(r.csv, round % 10 == 9 ? SyncKind::full : SyncKind::smart);
    ++runs;
    const auto feed = connectors::parse_csv_feed(
        r.csv, connectors::csv_feed_options(Side::config_for(twins.csv)), "feed.csv");
    if (feed.held_skus.empty()) last = rows_of(feed);
  }
  twins.pool.join();
  const auto& whole = twins.whole.warehouse;
  const auto& sieved = twins.sieved.warehouse;
  CHECK(whole.reads == runs);
  CHECK(whole.sieved == 0);
  CHECK(sieved.sieved > 2000);            // most rows never became a FeedRow
  CHECK(sieved.reads > runs);             // some feeds were read again, whole
  CHECK(sieved.reads < runs + runs / 2);  // only those
}

TEST_CASE("a connection's warehouses get the sieve only when the store feed is theirs as it is") {
  config::ConnectionConfig one;
  one.warehouses.resize(1);
  one.warehouses[0].name = "warehouse";
  auto two = one;  // a sum over warehouses
  two.warehouses.resize(2);
  two.warehouses[1].name = "west";
  auto filtered = one;
  filtered.warehouses[0].skus = {"A*"};
  auto listed = one;
  listed.listings.map = {{"A", "B"}};
  const std::vector<std::pair<config::ConnectionConfig, bool>> cases{
      {one, true}, {two, false}, {filtered, false}, {listed, false}};
  asio::io_context io;
  for (const auto& [config, sieved] : cases) {
    CAPTURE(config.warehouses.size());
    std::vector<std::shared_ptr<pb::test::MemoryWarehouse>> fakes;
    std::vector<std::shared_ptr<connectors::Warehouse>> warehouses;
    for (std::size_t i = 0; i < config.warehouses.size(); ++i) {
      fakes.push_back(std::make_shared<pb::test::MemoryWarehouse>());
      fakes.back()->feed = make_feed({{"A", 1}});
      warehouses.push_back(fakes.back());
    }
    ConnectionSources sources(config, warehouses);
    connectors::ReadRequest request{SyncKind::smart, {}, {}};
    request.sieve = std::make_shared<DigestSieve>(digest_from({{"A", 1}}));
    auto fut = asio::co_spawn(io, sources.read(io.get_executor(), request), asio::use_future);
    io.restart();
    io.run();
    CHECK(fut.get().sieved == 0);
    for (const auto& fake : fakes) CHECK((fake->last_request.sieve != nullptr) == sieved);
  }
}

TEST_CASE("a source that writes duplicates is read twice once, then no longer sieved") {
  pb::test::TempDir feeds;
  const auto csv = feeds.path() / "feed.csv";
  asio::io_context io;
  asio::thread_pool pool(2);
  Rules rules;
  Side side(csv, false);  // duplicates: sum
  for (int round = 0; round < 5; ++round) {
    CAPTURE(round);
    std::ofstream(csv) << "sku,quantity\nA,1\nB," << 2 + round << "\nC,3\nA,4\nD,5\n";
    const auto run = side.run(io, pool, rules, SyncKind::smart);
    CHECK(run.result == RunResult::ok);
    CHECK(run.read == 4);
    CHECK(side.store.quantities["A"] == 5);
    CHECK(side.store.quantities["B"] == 2 + round);
    REQUIRE(side.control.feed_digest);
    CHECK(side.control.feed_digest->sieve == (round == 0));
  }
  pool.join();
  // The first run had no digest; the second read through a sieve that A spoiled, then whole.
  CHECK(side.warehouse.reads == 6);
  // That read dropped C; A's row (1, not the digest's sum 5) was kept, and A's second row spoiled
  // the sieve before D.
  CHECK(side.warehouse.sieved == 1);
}
