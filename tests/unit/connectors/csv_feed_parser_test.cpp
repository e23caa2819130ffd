#include "connectors/warehouse/csv/csv_feed_parser.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace pb;
using namespace pb::connectors;

namespace {

// "SKU=QUANTITY@LINE;..." : one string compares (and prints) the whole result.
std::string rows(const Feed& feed) {
  std::string out;
  for (const auto& row : feed.rows) {
    if (!out.empty()) out += ';';
    out += row.sku + "=" + std::to_string(row.quantity) + "@" + std::to_string(row.line);
  }
  return out;
}

// "LINE|SKU|MESSAGE" per problem, one per line.
std::string problems(const Feed& feed) {
  std::string out;
  for (const auto& p : feed.problems)
    out += std::to_string(p.line) + "|" + p.sku + "|" + p.message + "\n";
  return out;
}

std::string held(const Feed& feed) {
  std::string out;
  for (const auto& sku : feed.held_skus) out += (out.empty() ? "" : ",") + sku;
  return out;
}

std::string dump(const Feed& feed) {
  return feed.origin + "\n" + rows(feed) + "\n" + problems(feed) + held(feed);
}

// Parses with one large chunk, then checks that every tiny chunk size, through both the string
// and the stream overloads, gives the same result: rows, quotes, CRLFs and the byte order mark
// then split at every possible place.
Feed parse(std::string_view text, CsvFeedOptions options = {}) {
  const Feed reference = parse_csv_feed(text, options, "feed.csv");
  for (std::size_t chunk : {1UL, 2UL, 3UL, 4UL, 5UL, 7UL, 16UL}) {
    CAPTURE(chunk);
    options.chunk_bytes = chunk;
    CHECK(dump(parse_csv_feed(text, options, "feed.csv")) == dump(reference));
    std::istringstream in{std::string(text)};
    CHECK(dump(parse_csv_feed(in, options, "feed.csv")) == dump(reference));
  }
  return reference;
}

}  // namespace

TEST_CASE("a simple feed comes out sorted by SKU with its source lines") {
  const Feed feed = parse("sku,quantity\nB,2\nA,1\n");
  CHECK(feed.origin == "feed.csv");
  CHECK(rows(feed) == "A=1@3;B=2@2");
  CHECK(problems(feed).empty());
  CHECK(feed.held_skus.empty());
}

TEST_CASE("rows are sorted in byte order") {
  const Feed feed = parse("sku,quantity\n\xC3\xA9,5\na,4\n_,3\nB,2\nz,1\n");
  CHECK(rows(feed) == "B=2@5;_=3@4;a=4@3;z=1@6;\xC3\xA9=5@2");
}

TEST_CASE("byte order mark, CRLF, surrounding spaces and a missing final newline") {
  CHECK(rows(parse("\xEF\xBB\xBFsku,quantity\r\nA,1\r\n B , 2 \r\n")) == "A=1@2;B=2@3");
  CHECK(rows(parse("sku,quantity\nA,1")) == "A=1@2");
  CHECK(rows(parse("sku,quantity\r\nA,1\r\nB,2")) == "A=1@2;B=2@3");
}

TEST_CASE("quoted cells: delimiters, doubled quotes, line breaks and line numbers after them") {
  const Feed feed = parse(
      "sku,quantity\n"           // 1
      "\"A,1\",5\n"              // 2
      "\"B\nC\",6\n"             // 3-4
      "\"say \"\"hi\"\"\", 7\n"  // 5
      " \"D\" ,\"8\"\n"          // 6
      "E,x\n"                    // 7
      "\" X \",9\n"              // 8
      "\"F\r\nG\",10\r\n");      // 9-10
  CHECK(rows(feed) == " X =9@8;A,1=5@2;B\nC=6@3;D=8@6;F\r\nG=10@9;say \"hi\"=7@5");
  CHECK(problems(feed) == "7|E|quantity 'x' is not an integer\n");
  CHECK(held(feed) == "E");
}

TEST_CASE("custom delimiter and column names, other columns are ignored") {
  CsvFeedOptions options;
  options.sku_column = "Item";
  options.quantity_column = "On Hand";
  options.delimiter = ';';
  const Feed feed = parse(
      "Loc;Item;Desc;On Hand;Extra\n"
      "W1;A;desc, with comma;3;z\n"
      "W2; B ;\"q;uoted\nline\";-4\n"
      "W3;C;x\n"
      "W4;D;x;5\n",
      options);
  CHECK(rows(feed) == "A=3@2;B=-4@3;D=5@6");
  CHECK(problems(feed) == "5|C|too few cells (3; columns 'Item' and 'On Hand' need 4)\n");
  CHECK(held(feed) == "C");
}

TEST_CASE("a tab delimiter is not trimmed as a space") {
  CsvFeedOptions options;
  options.delimiter = '\t';
  CHECK(rows(parse("sku\tquantity\n A \t 1 \n\"B\tC\"\t2\n", options)) == "A=1@2;B\tC=2@3");
}

TEST_CASE("every kind of bad row is a problem on its line, and holds its SKU") {
  const Feed feed = parse(
      "sku,quantity\n"            // 1
      "A,1\n"                     // 2
      " ,5\n"                     // 3
      "B,  \n"                    // 4
      "C,7.5\n"                   // 5
      "D,abc\n"                   // 6
      "E,99999999999999999999\n"  // 7
      "F\n"                       // 8
      "\"G\"x,1\n"                // 9
      "H,\"1\"\n"                 // 10
      "C,3\n"                     // 11
      "I,0\n"                     // 12
      "J,+5\n"                    // 13
      "K,\"  2\"\n"               // 14
      "L,-7\n"                    // 15
      "M,9223372036854775807\n"   // 16
      "N,-9223372036854775808\n"  // 17
      "O,1,extra\n"               // 18
      "Q,\"\"\n"                  // 19
      "R,1e3\n"                   // 20
      "S,-\n"                     // 21
      "P,\"3\n");                 // 22
  CHECK(rows(feed) ==
        "A=1@2;H=1@10;I=0@12;J=5@13;L=-7@15;M=9223372036854775807@16;"
        "N=-9223372036854775808@17;O=1@18");
  CHECK(problems(feed) ==
        "3||no SKU\n"
        "4|B|blank quantity (blank is not zero)\n"
        "5|C|quantity '7.5' is not an integer\n"
        "6|D|quantity 'abc' is not an integer\n"
        "7|E|quantity '99999999999999999999' is out of range\n"
        "8|F|too few cells (1; columns 'sku' and 'quantity' need 2)\n"
        "9||text after the closing quote of a cell\n"
        "14|K|quantity '  2' is not an integer\n"
        "19|Q|blank quantity (blank is not zero)\n"
        "20|R|quantity '1e3' is not an integer\n"
        "21|S|quantity '-' is not an integer\n"
        "22|P|quoted cell not closed before the end of the file\n");
  // C also has a good row (line 11): a held SKU gets no row at all.
  CHECK(held(feed) == "B,C,D,E,F,K,P,Q,R,S");
}

TEST_CASE("duplicate SKUs: every row is a problem under `error`") {
  const Feed feed = parse("sku,quantity\nA,1\nB,2\nA,3\nA,4\nC,x\nC,5\n");
  CHECK(rows(feed) == "B=2@3");
  CHECK(problems(feed) ==
        "2|A|duplicate SKU 'A' (also on line 4)\n"
        "4|A|duplicate SKU 'A' (also on line 2)\n"
        "5|A|duplicate SKU 'A' (also on line 2)\n"
        "6|C|quantity 'x' is not an integer\n");
  CHECK(held(feed) == "A,C");
}

TEST_CASE("duplicate SKUs are added up under `sum`, on the first row's line") {
  CsvFeedOptions options;
  options.duplicates = DuplicatePolicy::sum;
  const Feed feed = parse("sku,quantity\nA,1\nB,2\nA,3\nA,4\nC,x\nC,5\nD,5\nD,-7\n", options);
  CHECK(rows(feed) == "A=8@2;B=2@3;D=-2@8");
  CHECK(problems(feed) == "6|C|quantity 'x' is not an integer\n");
  CHECK(held(feed) == "C");

  const Feed overflow = parse("sku,quantity\nA,9223372036854775807\nB,1\nA,1\n", options);
  CHECK(rows(overflow) == "B=1@3");
  CHECK(problems(overflow) == "2|A|the sum of the 2 rows of SKU 'A' is out of range\n");
  CHECK(held(overflow) == "A");
}

TEST_CASE("blank lines between rows are problems, trailing blank lines are not") {
  const Feed feed = parse("sku,quantity\nA,1\n\n  \nB,2\n\n\r\n \n");
  CHECK(rows(feed) == "A=1@2;B=2@5");
  CHECK(problems(feed) == "3||blank line\n4||blank line\n");
  CHECK(feed.held_skus.empty());
  CHECK(rows(parse("sku,quantity\n")).empty());
  CHECK(rows(parse("sku,quantity")).empty());
}

TEST_CASE("a header without the columns is an error naming the column and the file") {
  CHECK_THROWS_WITH_AS(parse_csv_feed("sku,qty\nA,1\n", {}, "/feeds/x.csv"),
                       "/feeds/x.csv: no column 'quantity' in the header (columns: 'sku', 'qty')",
                       WarehouseError);
  CHECK_THROWS_WITH_AS(parse_csv_feed("SKU,quantity\n", {}, "f.csv"),
                       "f.csv: no column 'sku' in the header (columns: 'SKU', 'quantity')",
                       WarehouseError);
  CHECK_THROWS_WITH_AS(parse_csv_feed("sku,quantity,sku\n", {}, "f.csv"),
                       "f.csv: column 'sku' appears twice in the header", WarehouseError);
  CHECK_THROWS_WITH_AS(parse_csv_feed("", {}, "f.csv"),
                       "f.csv: empty file (expected a header line)", WarehouseError);
  CHECK_THROWS_WITH_AS(parse_csv_feed("\xEF\xBB\xBF", {}, "f.csv"),
                       "f.csv: empty file (expected a header line)", WarehouseError);
  // Header names are trimmed, quoted or not.
  CHECK(rows(parse(" sku ,\" quantity \"\nA,1\n")) == "A=1@2");
}

TEST_CASE("an over-long row is one problem and reading resumes at the next line") {
  CsvFeedOptions options;
  options.max_row_bytes = 16;
  const Feed feed = parse(
      "sku,quantity\n"               // 1
      "A,1\n"                        // 2
      "\"B,2\n"                      // 3: unbalanced quote
      "C,3\n"                        // 4
      "D,4\n"                        // 5
      "E,5\n"                        // 6: the 16-byte limit ends here
      "F,6\n"                        // 7
      "G,12345678901234567890123\n"  // 8: the SKU cell was complete
      "H,1\n",                       // 9
      options);
  CHECK(rows(feed) == "A=1@2;F=6@7;H=1@9");
  CHECK(problems(feed) ==
        "3||row longer than 16 bytes (an unbalanced quote?); skipped to the next line\n"
        "8|G|row longer than 16 bytes (an unbalanced quote?); skipped to the next line\n");
  CHECK(held(feed) == "G");
  // Exactly at the limit is fine.
  CHECK(rows(parse("sku,quantity\nABCDEFGHIJKLMN,1\n", options)) == "ABCDEFGHIJKLMN=1@2");
}

TEST_CASE("many rows in reverse order, read in odd-sized chunks") {
  std::string text = "id,sku,quantity\n";
  constexpr std::size_t n = 5000;
  for (std::size_t i = n; i-- > 0;)
    text +=
        std::to_string(i) + ",SKU-" + std::to_string(100000 + i) + "," + std::to_string(i) + "\r\n";
  CsvFeedOptions options;
  options.chunk_bytes = 97;
  const Feed feed = parse_csv_feed(text, options, "big.csv");
  REQUIRE(feed.rows.size() == n);
  CHECK(feed.problems.empty());
  for (std::size_t i = 0; i < n; ++i) {
    const auto& row = feed.rows[i];
    CHECK(row.sku == "SKU-" + std::to_string(100000 + i));
    CHECK(row.quantity == static_cast<Quantity>(i));
    CHECK(row.line == n - i + 1);
  }
}

TEST_CASE("shuffled SKUs with long shared prefixes sort in byte order and sum correctly") {
  // Long SKUs that agree past the parser's 8-byte sort key, short ones that are prefixes of
  // others, and bytes above 0x7f, in a fixed pseudo-random order. The bytes above 0x7f are
  // UTF-8 (U+00E9 and U+10FFFF, the highest lead byte): a SKU that is not UTF-8 is a bad row.
  const std::vector<std::string> parts{
      "a", "b", "Z", "0", "-", "\xC3\xA9", "\xF4\x8F\xBF\xBF", "LONGPART"};
  std::uint64_t seed = 42;
  const auto next = [&seed](std::size_t bound) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::size_t>((seed >> 33) % bound);
  };
  std::map<std::string, std::pair<Quantity, std::uint64_t>> expected;  // sum, first line
  std::string text = "sku,quantity\n";
  for (std::uint64_t line = 2; line < 3002; ++line) {
    std::string sku = "PREFIX-SHARED-BY-ALL-";
    for (std::size_t n = next(6); n > 0; --n) sku += parts[next(parts.size())];
    const auto quantity = static_cast<Quantity>(next(100)) - 50;
    text += sku + "," + std::to_string(quantity) + "\n";
    auto [it, inserted] = expected.try_emplace(sku, quantity, line);
    if (!inserted) it->second.first += quantity;
  }
  CsvFeedOptions options;
  options.duplicates = DuplicatePolicy::sum;
  const Feed feed = parse_csv_feed(text, options, "shuffled.csv");
  CHECK(feed.problems.empty());
  REQUIRE(feed.rows.size() == expected.size());
  auto it = expected.begin();
  for (const auto& row : feed.rows) {
    CHECK(row.sku == it->first);
    CHECK(row.quantity == it->second.first);
    CHECK(row.line == it->second.second);
    ++it;
  }
}

TEST_CASE("a location column: rows at other locations are left out, the rest added up per SKU") {
  CsvFeedOptions options;
  options.location_column = "location";
  options.locations = {"EAST", "WEST"};
  const Feed feed = parse(
      "sku,quantity,location\n"
      "A,5,EAST\n"
      "B,1,NORTH\n"  // not wanted: left out
      "A,7,WEST\n"
      "C,x,NORTH\n"  // a bad row at a location not wanted holds nothing
      "B,2,WEST\n"
      "D,3,\n",  // no location: not in the list
      options);
  CHECK(rows(feed) == "A=12@2;B=2@6");
  CHECK(problems(feed) == "");
  CHECK(held(feed) == "");
}

TEST_CASE("a location column without a list keeps every location, a blank one too") {
  CsvFeedOptions options;
  options.location_column = "site";
  const Feed feed = parse("site,sku,quantity\nEAST,A,5\nWEST,A,7\n,A,1\nEAST,B,2\n", options);
  CHECK(rows(feed) == "A=13@2;B=2@5");
}

TEST_CASE("a location column: duplicates are rows of one SKU at one location") {
  CsvFeedOptions options;
  options.location_column = "location";
  const std::string text =
      "sku,quantity,location\n"
      "A,5,EAST\n"
      "A,7,WEST\n"
      "A,1,EAST\n"
      "B,2,EAST\n"
      "B,3,WEST\n";
  const Feed refused = parse(text, options);
  CHECK(rows(refused) == "B=5@5");
  CHECK(problems(refused) ==
        "2|A|duplicate SKU 'A' (also on line 4)\n"
        "4|A|duplicate SKU 'A' (also on line 2)\n");
  CHECK(held(refused) == "A");

  options.duplicates = DuplicatePolicy::sum;
  CHECK(rows(parse(text, options)) == "A=13@2;B=5@5");
}

TEST_CASE("a location column: a bad row at a wanted location holds its SKU everywhere") {
  CsvFeedOptions options;
  options.location_column = "location";
  options.locations = {"EAST", "WEST"};
  const Feed feed = parse(
      "sku,quantity,location\n"
      "A,5,EAST\n"
      "A,,WEST\n"
      "B,1\n"  // too short to have a location: a problem of the feed
      "C,9223372036854775807,EAST\n"
      "C,1,WEST\n",
      options);
  CHECK(rows(feed) == "");
  CHECK(problems(feed) ==
        "3|A|blank quantity (blank is not zero)\n"
        "4|B|too few cells (2; columns 'sku' and 'quantity' need 3)\n"
        "5|C|the sum of the 2 rows of SKU 'C' is out of range\n");
  CHECK(held(feed) == "A,B,C");
}

TEST_CASE("a location column missing from the header is an error naming it") {
  CsvFeedOptions options;
  options.location_column = "warehouse";
  CHECK_THROWS_WITH_AS(parse_csv_feed("sku,quantity\nA,1\n", options, "feed.csv"),
                       "feed.csv: no column 'warehouse' in the header (columns: 'sku', 'quantity')",
                       WarehouseError);
}

namespace {

// Knows a fixed set of rows, each once per read (as the engine's DigestSieve does), and counts
// what it was asked.
class SetSieve final : public FeedSieve {
 public:
  explicit SetSieve(std::map<std::string, Quantity> rows) : rows_(std::move(rows)) {}
  bool known(std::string_view sku, Quantity quantity) override {
    ++asked;
    const auto it = rows_.find(std::string(sku));
    if (it == rows_.end() || it->second != quantity || dropped.count(it->first)) return false;
    dropped.insert(it->first);
    return true;
  }
  void restart() override {
    ++restarts;
    dropped.clear();
  }
  int asked = 0;
  int restarts = 0;
  std::set<std::string> dropped;

 private:
  std::map<std::string, Quantity> rows_;
};

}  // namespace

TEST_CASE("a sieve: the rows it knows are dropped and counted, the rest kept as usual") {
  const std::string text =
      "sku,quantity\n"
      "A,1\n"
      "B,2\n"
      "C,3\n"
      "D,x\n"
      "E,5\n";
  for (const bool stream : {false, true}) {
    CAPTURE(stream);
    SetSieve sieve({{"A", 1}, {"B", 20}, {"E", 5}, {"D", 4}});
    CsvFeedOptions options;
    options.sieve = &sieve;
    options.chunk_bytes = 3;
    std::istringstream in{text};
    const Feed feed = stream ? parse_csv_feed(in, options, "feed.csv")
                             : parse_csv_feed(text, options, "feed.csv");
    CHECK(rows(feed) == "B=2@3;C=3@4");  // B's quantity changed, C is new
    CHECK(feed.sieved == 2);             // A and E
    CHECK(held(feed) == "D");            // a bad row is never the sieve's to answer
    CHECK(sieve.asked == 4);
    CHECK(sieve.restarts == 0);
  }
  // Without one, all rows stay.
  CHECK(parse_csv_feed(text, CsvFeedOptions{}, "feed.csv").sieved == 0);
}

TEST_CASE("a sieve: the fast path's restart on a quoted line starts the sieve over too") {
  SetSieve sieve({{"A", 1}, {"B", 2}});
  CsvFeedOptions options;
  options.sieve = &sieve;
  std::istringstream in{"sku,quantity\nA,1\nB,2\n\"C\",3\n"};
  const Feed feed = parse_csv_feed(in, options, "feed.csv");
  CHECK(sieve.restarts == 1);
  CHECK(rows(feed) == "C=3@4");
  CHECK(feed.sieved == 2);  // counted once, by the reading that finished
}

TEST_CASE("a sieve is not asked with a location column: its rows are added up later") {
  SetSieve sieve({{"A", 5}, {"B", 1}});
  CsvFeedOptions options;
  options.sieve = &sieve;
  options.location_column = "location";
  const Feed feed =
      parse_csv_feed("sku,quantity,location\nA,2,EAST\nA,3,WEST\nB,1,EAST\n", options, "feed.csv");
  CHECK(rows(feed) == "A=5@2;B=1@4");
  CHECK(feed.sieved == 0);
  CHECK(sieve.asked == 0);
}

namespace {

// Takes lines (FeedSieve::lines_begin) and knows those whose hash it was given; notes what it
// was offered and the layouts it was told.
class LineSieve final : public FeedSieve {
 public:
  explicit LineSieve(std::set<std::uint64_t> known) : known_(std::move(known)) {}
  bool known(std::string_view sku, Quantity) override {
    parsed.emplace_back(sku);
    return false;
  }
  void restart() override { ++restarts; }
  bool lines_begin(std::uint64_t layout) override {
    layouts.push_back(layout);
    return true;
  }
  bool known_line(std::uint64_t hash) override {
    offered.push_back(hash);
    return known_.count(hash) > 0;
  }
  std::vector<std::uint64_t> layouts;
  std::vector<std::uint64_t> offered;
  std::vector<std::string> parsed;
  int restarts = 0;

 private:
  std::set<std::uint64_t> known_;
};

}  // namespace

TEST_CASE("a sieve that takes lines: each line but the header and blank ones, known ones unsplit") {
  const std::string text =
      "sku,quantity\n"
      "A,1\n"
      "B,2\r\n"
      "  \n"
      "C,3\n"
      "D,x\n"
      "E,5";  // the last line has no line break
  LineSieve sieve({line_hash("B,2\r"), line_hash("C,3"), line_hash("E,5")});
  CsvFeedOptions options;
  options.sieve = &sieve;
  options.chunk_bytes = 4;
  std::istringstream in{text};
  const Feed feed = parse_csv_feed(in, options, "feed.csv");
  CHECK(sieve.offered == std::vector<std::uint64_t>{line_hash("A,1"), line_hash("B,2\r"),
                                                    line_hash("C,3"), line_hash("D,x"),
                                                    line_hash("E,5")});
  CHECK(sieve.parsed == std::vector<std::string>{"A"});  // D's quantity is no row to ask about
  CHECK(rows(feed) == "A=1@2");
  CHECK(feed.sieved == 3);
  CHECK(held(feed) == "D");
  // The blank line before a known line is still a problem, on its own line.
  REQUIRE(feed.problems.size() == 2);
  CHECK(feed.problems[0].line == 4);
  CHECK(feed.problems[0].message == "blank line");
}

TEST_CASE(
    "a sieve's lines: a layout for the header and the columns read, none for the general reader") {
  const auto layout_of = [](const std::string& text, const std::string& sku_column) {
    LineSieve sieve({});
    CsvFeedOptions options;
    options.sieve = &sieve;
    options.sku_column = sku_column;
    std::istringstream in{text};
    parse_csv_feed(in, options, "feed.csv");
    REQUIRE(sieve.layouts.size() == 1);
    return sieve.layouts[0];
  };
  const auto plain = layout_of("sku,quantity,code\nA,1,B\n", "sku");
  CHECK(layout_of("sku, quantity ,code\nA,1,B\n", "sku") == plain);  // the same cells
  CHECK(layout_of("sku,quantity,code\nA,1,B\n", "code") != plain);   // another column read
  CHECK(layout_of("sku,quantity,code2\nA,1,B\n", "sku") != plain);   // another header
  // A quoted line sends the input to the general reader, which offers no lines.
  LineSieve sieve({});
  CsvFeedOptions options;
  options.sieve = &sieve;
  std::istringstream in{"sku,quantity\nA,1\n\"B\",2\n"};
  const Feed feed = parse_csv_feed(in, options, "feed.csv");
  CHECK(sieve.restarts == 1);
  CHECK(sieve.offered.size() == 2);  // A and the quoted line, before the restart
  CHECK(sieve.parsed == std::vector<std::string>{"A", "A", "B"});
  CHECK(rows(feed) == "A=1@2;B=2@3");
  // Not with a string (the general reader from the start): no lines taken.
  LineSieve whole({});
  options.sieve = &whole;
  parse_csv_feed(std::string("sku,quantity\nA,1\n"), options, "feed.csv");
  CHECK(whole.layouts.empty());
}
