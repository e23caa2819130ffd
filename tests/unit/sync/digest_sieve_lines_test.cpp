// The sieve line by line (LineMemo): a read notes its lines, the next one knows those that are
// as they were without parsing them, and runs that do so leave what runs reading whole feeds
// leave, through changes, reverts, moves and every kind of line that breaks the memo.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "../temp_dir.hpp"
#include "connectors/warehouse/csv/csv_feed_parser.hpp"
#include "fakes.hpp"
#include "sieve_sides.hpp"
#include "sync/change_detector_digest.hpp"
#include "sync/digest_sieve.hpp"

using namespace pb;
using namespace pb::sync;
using pb::test::make_feed;
namespace asio = boost::asio;

namespace {

constexpr std::uint64_t kLayout = 7;

std::uint64_t hash(std::string_view line) {
  return connectors::line_hash(line);
}

using Line = std::tuple<std::string, std::string, Quantity>;  // the line, its SKU and quantity

// A read of `lines` through `sieve` as the CSV reader makes it: each line offered, the ones it
// does not know parsed and asked about. Returns the rows it kept (the feed, sieved counted).
connectors::Feed read_lines(DigestSieve& sieve, const std::vector<Line>& lines) {
  connectors::Feed feed;
  REQUIRE(sieve.lines_begin(kLayout));
  for (const auto& [line, sku, quantity] : lines) {
    if (sieve.known_line(hash(line))) {
      ++feed.sieved;
      continue;
    }
    if (sieve.known(sku, quantity))
      ++feed.sieved;
    else
      feed.rows.push_back({sku, quantity, 0});
  }
  std::sort(feed.rows.begin(), feed.rows.end(),
            [](const auto& a, const auto& b) { return a.sku < b.sku; });
  return feed;
}

std::shared_ptr<FeedDigest> abcd() {
  return make_digest(make_feed({{"A", 1}, {"B", 2}, {"C", 3}, {"D", 4}}), Rules{});
}

}  // namespace

// The read's lines settled for the digest it leaves: `digest` itself when the feed only
// requantified (or changed nothing), after `diffs`.
std::shared_ptr<const LineMemo> settle(DigestSieve& sieve, std::size_t old_size,
                                       const std::vector<Difference>& diffs,
                                       const FeedDigest& digest) {
  return settle_lines(sieve.take_lines(), old_size, diffs, digest);
}

TEST_CASE("a read notes its lines, and the next one knows the unchanged ones without a parse") {
  auto digest = abcd();
  DigestSieve first(digest);  // no lines yet: each is parsed, and noted
  const auto feed =
      read_lines(first, {{"A,1", "A", 1}, {"B,2", "B", 2}, {"C,3", "C", 3}, {"D,4", "D", 4}});
  CHECK(feed.sieved == 4);
  CHECK(first.lines_known() == 0);
  const auto memo = settle(first, 4, {}, *digest);
  REQUIRE(memo);
  CHECK(memo->size() == 4);
  CHECK(memo->entries.empty());  // in the digest's order: line i is entry i
  CHECK(memo->layout == kLayout);
  digest->lines = memo;

  DigestSieve second(digest);
  const auto next = read_lines(second, {{"A,1", "A", 1},
                                        {"B,20", "B", 20},
                                        {"C,3", "C", 3},
                                        {"D,4 ", "D", 4}});  // D's bytes changed, not its row
  CHECK(second.lines_known() == 2);                          // A and C; B and D were parsed
  CHECK(second.count() == 3);
  CHECK(next.rows.size() == 1);
  auto draft = second.take_lines();
  const auto diffs = differences(next, *digest, second);
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0].sku == "B");
  CHECK(*diffs[0].quantity == 20);
  // The digest takes the new quantities, and drops the lines whose rows they were.
  REQUIRE(requantify_in_place(*digest, diffs));
  CHECK_FALSE(digest->lines);
  const auto lines = settle_lines(std::move(draft), 4, diffs, *digest);
  REQUIRE(lines);
  CHECK(lines->hashes ==
        std::vector<std::uint64_t>{hash("A,1"), hash("B,20"), hash("C,3"), hash("D,4 ")});
  digest->lines = lines;
  // B back to 2: its old line is not the memo's, so it is parsed and found changed.
  DigestSieve third(digest);
  const auto back =
      read_lines(third, {{"A,1", "A", 1}, {"B,2", "B", 2}, {"C,3", "C", 3}, {"D,4 ", "D", 4}});
  CHECK(third.lines_known() == 3);
  REQUIRE(back.rows.size() == 1);
  CHECK(back.rows[0].quantity == 2);
  // Nothing changed: the digest keeps its lines.
  CHECK(requantify_in_place(*digest, {}));
  CHECK(digest->lines == lines);
}

TEST_CASE("a SKU comes and another goes: the lines follow the digest's entries as patched") {
  auto digest = abcd();
  DigestSieve first(digest);
  read_lines(first, {{"A,1", "A", 1}, {"B,2", "B", 2}, {"C,3", "C", 3}, {"D,4", "D", 4}});
  digest->lines = settle(first, 4, {}, *digest);
  REQUIRE(digest->lines);
  // BB comes between B and C, C goes, E comes at the end, and D's line moves before A's.
  DigestSieve second(digest);
  const auto feed = read_lines(
      second,
      {{"D,4", "D", 4}, {"A,1", "A", 1}, {"B,2", "B", 2}, {"BB,7", "BB", 7}, {"E,5", "E", 5}});
  auto draft = second.take_lines();
  REQUIRE(draft);
  CHECK(draft->new_skus.size() == 2);
  const auto diffs = differences(feed, *digest, second);
  CHECK(diffs.size() == 3);  // BB, C gone, E
  const auto next = patch_digest(*digest, diffs, Rules{});
  REQUIRE(next->size() == 5);  // A B BB D E
  const auto lines = settle_lines(std::move(draft), 4, diffs, *next);
  REQUIRE(lines);
  CHECK(lines->entries == std::vector<std::uint32_t>{3, 0, 1, 2, 4});
  CHECK(lines->lines == std::vector<std::uint32_t>{1, 2, 3, 0, 4});
  next->lines = lines;
  // The next read knows every line, the new SKUs' too, and finds the one change.
  DigestSieve third(next);
  const auto after = read_lines(
      third,
      {{"D,4", "D", 4}, {"A,1", "A", 1}, {"B,2", "B", 2}, {"BB,8", "BB", 8}, {"E,5", "E", 5}});
  CHECK(third.lines_known() == 4);
  REQUIRE(after.rows.size() == 1);
  CHECK(after.rows[0].sku == "BB");
  // A new SKU on two lines (summed by the reader) names one entry twice: no lines.
  DigestSieve twice(digest);
  const auto doubled = read_lines(twice, {{"A,1", "A", 1},
                                          {"B,2", "B", 2},
                                          {"C,3", "C", 3},
                                          {"D,4", "D", 4},
                                          {"E,5", "E", 5},
                                          {"E,6", "E", 6}});
  auto summed = make_feed({{"E", 11}});
  summed.sieved = doubled.sieved;
  const auto grown = differences(summed, *digest, twice);
  const auto bigger = patch_digest(*digest, grown, Rules{});
  CHECK_FALSE(settle_lines(twice.take_lines(), 4, grown, *bigger));
}

TEST_CASE(
    "lines out of the digest's order: a moved line is parsed and puts the rest back in step") {
  auto digest = abcd();
  DigestSieve first(digest);
  read_lines(first, {{"C,3", "C", 3}, {"A,1", "A", 1}, {"B,2", "B", 2}, {"D,4", "D", 4}});
  const auto memo = settle(first, 4, {}, *digest);
  REQUIRE(memo);
  CHECK(memo->entries == std::vector<std::uint32_t>{2, 0, 1, 3});
  CHECK(memo->lines == std::vector<std::uint32_t>{1, 2, 0, 3});
  digest->lines = memo;
  DigestSieve second(digest);
  // A moved to the front; after it the reader expects B's old line, C's comes: parsed too.
  read_lines(second, {{"A,1", "A", 1}, {"C,3", "C", 3}, {"B,2", "B", 2}, {"D,4", "D", 4}});
  CHECK(second.count() == 4);
  CHECK(second.lines_known() == 1);  // D, back in step after B
  const auto lines = settle(second, 4, {}, *digest);
  REQUIRE(lines);
  CHECK(lines->entries == std::vector<std::uint32_t>{0, 2, 1, 3});
  // Another layout (another header, other columns): no old line matches.
  DigestSieve other(digest);
  REQUIRE(other.lines_begin(kLayout + 1));
  CHECK_FALSE(other.known_line(hash("C,3")));
}

TEST_CASE("a read whose lines cannot stand for the digest's entries leaves no lines") {
  // A duplicate of the digest's SKU spoils the sieve: no draft.
  DigestSieve duplicate(abcd());
  read_lines(duplicate,
             {{"A,1", "A", 1}, {"B,2", "B", 2}, {"C,3", "C", 3}, {"D,4", "D", 4}, {"D,5", "D", 5}});
  CHECK_FALSE(duplicate.take_lines());
  // Lines settled for a digest they do not describe (fewer lines than entries): none.
  auto digest = abcd();
  DigestSieve short_read(digest);
  read_lines(short_read, {{"A,1", "A", 1}, {"B,2", "B", 2}, {"C,3", "C", 3}});
  CHECK_FALSE(settle(short_read, 4, {}, *digest));
  // A bad row: offered, but never asked about (its quantity was no number).
  DigestSieve bad(abcd());
  read_lines(bad, {{"A,1", "A", 1}, {"B,2", "B", 2}, {"C,3", "C", 3}, {"D,4", "D", 4}});
  REQUIRE(bad.lines_begin(kLayout));  // a second pass, as after a restart
  bad.restart();
  REQUIRE(bad.lines_begin(kLayout));
  CHECK_FALSE(bad.known_line(hash("A,x")));
  for (const auto* line : {"B,2", "C,3", "D,4"}) CHECK_FALSE(bad.known_line(hash(line)));
  CHECK_FALSE(bad.take_lines());
  // A restart (the general reader takes over) forgets the lines noted so far.
  DigestSieve restarted(abcd());
  read_lines(restarted, {{"A,1", "A", 1}, {"B,2", "B", 2}, {"C,3", "C", 3}, {"D,4", "D", 4}});
  restarted.restart();
  CHECK_FALSE(restarted.take_lines());
  // The memo's line for a SKU already named by a parsed line: a duplicate, which spoils.
  DigestSieve first(digest);
  read_lines(first, {{"A,1", "A", 1}, {"B,2", "B", 2}, {"C,3", "C", 3}, {"D,4", "D", 4}});
  digest->lines = settle(first, 4, {}, *digest);
  DigestSieve second(digest);
  REQUIRE(second.lines_begin(kLayout));
  CHECK_FALSE(second.known_line(hash("B,9")));
  CHECK_FALSE(second.known("B", 9));  // the old lines go on after B's: C's next
  CHECK_FALSE(second.known_line(hash("A,7")));
  CHECK_FALSE(second.known("A", 7));            // after A's: B's
  CHECK_FALSE(second.known_line(hash("B,2")));  // B's old line, B named already: not known
  CHECK(second.spoiled());
}

namespace {

// A catalogue's feed in an order of its own: most rounds requantify a few SKUs (often back to
// an earlier quantity: the quantities are few) or write a row's line with other bytes (a space,
// a CR); now and then a line moves, a SKU comes or goes, or for one round a bad row, a blank
// line or a duplicate appears.
struct Catalogue {
  std::vector<std::string> order;
  std::map<std::string, Quantity> quantity;
  std::map<std::string, std::string> tail;  // after the quantity

  Catalogue(int skus, bool sorted, std::mt19937& rng) {
    for (int i = 0; i < skus; ++i) add("S" + std::to_string(1000 + i * 7), order.size(), rng);
    if (!sorted) std::shuffle(order.begin(), order.end(), rng);
  }
  void add(const std::string& sku, std::size_t at, std::mt19937& rng) {
    order.insert(order.begin() + static_cast<std::ptrdiff_t>(at), sku);
    quantity[sku] = static_cast<Quantity>(rng() % 4);
  }
  std::size_t any(std::mt19937& rng) const { return rng() % order.size(); }

  std::string next(std::mt19937& rng) {
    for (const auto& sku : order) {
      const auto roll = rng() % 100;
      if (roll < 3) quantity[sku] = static_cast<Quantity>(rng() % 4);
      if (roll == 3) tail[sku] = rng() % 2 == 0 ? " " : "\r";
      if (roll == 4) tail[sku].clear();
    }
    const auto event = rng() % 24;
    if (event == 0) std::swap(order[any(rng)], order[any(rng)]);
    if (event == 1) add("N" + std::to_string(rng()), any(rng), rng);
    if (event == 2 && order.size() > 10) order.erase(order.begin() + std::ptrdiff_t(any(rng)));
    std::vector<std::string> lines;
    for (const auto& sku : order)
      lines.push_back(sku + "," + std::to_string(quantity[sku]) + tail[sku]);
    const auto at = lines.begin() + std::ptrdiff_t(any(rng));
    if (event == 3) lines.insert(at, order.front() + ",x");  // a bad row holding a SKU
    if (event == 4) lines.insert(at, "  ");                  // a blank line
    if (event == 5) lines.push_back(*at);                    // a duplicate
    std::string csv = "sku,quantity\n";
    for (const auto& line : lines) csv += line + "\n";
    return csv;
  }
};

}  // namespace

TEST_CASE("runs that know rows by their lines leave what runs reading whole feeds leave") {
  for (const bool sorted : {true, false}) {
    CAPTURE(sorted);
    pb::test::SieveTwins twins;
    std::mt19937 rng(sorted ? 11 : 12);
    Catalogue catalogue(300, sorted, rng);
    constexpr int kRounds = 80;
    for (int round = 0; round < kRounds; ++round) {
      CAPTURE(round);
      twins.round(catalogue.next(rng), round % 20 == 19 ? SyncKind::full : SyncKind::smart);
    }
    twins.pool.join();
    CHECK(twins.whole.warehouse.lines_known == 0);
    // Many rows were known by their line, not parsed (a duplicate stops the sieve for a while).
    const auto& lines = twins.sieved.warehouse;
    CHECK(lines.lines_known > kRounds * 300 / 4);
    CHECK(lines.lines_known < lines.sieved);
  }
}
