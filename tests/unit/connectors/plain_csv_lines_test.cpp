// The feed parser's fast path (PlainCsvLines) against the general reader it stands in for:
// random inputs, record by record and feed by feed, must come out the same.
#include "connectors/warehouse/csv/plain_csv_lines.hpp"

#include <doctest/doctest.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/warehouse/csv/csv_feed_parser.hpp"
#include "connectors/warehouse/csv/feed_file.hpp"
#include "test_support.hpp"

using namespace pb;
using namespace pb::connectors;

namespace {

// A CSV text of plain lines, now and then with what the fast path must hand back (a quote, a
// line over the limit) when `exotic`.
std::string random_text(std::mt19937& rng, bool exotic, char delimiter) {
  const char* pieces[] = {"A1", "B22", " C3", "D4 ", "\t",       "\r",   "",
                          "7",  "-3",  "x y", "+5",  "\xC3\xA9", "\xFF", "12345678901234567890",
                          "0",  "S",   "S"};
  const std::string d(1, delimiter);
  std::string text = rng() % 5 == 0 ? "\xEF\xBB\xBF" : "";
  text += rng() % 4 == 0 ? " sku " + d + "quantity" + d + "other\n" : "sku" + d + "quantity\n";
  const int lines = static_cast<int>(rng() % 40);
  for (int i = 0; i < lines; ++i) {
    const int cells = static_cast<int>(rng() % 4);
    for (int c = 0; c < cells; ++c) {
      if (c > 0) text += d;
      text += pieces[rng() % (sizeof(pieces) / sizeof(*pieces))];
      if (rng() % 3 == 0) text += std::to_string(rng() % 100);
    }
    if (exotic && rng() % 25 == 0) text += "\"q\"";
    if (exotic && rng() % 25 == 0) text += std::string(90, 'L');
    if (i + 1 < lines || rng() % 2 == 0) text += rng() % 6 == 0 ? "\r\n" : "\n";
  }
  return text;
}

std::string show(const CsvRecord& r) {
  std::string out = std::to_string(r.line) + "/" + std::to_string(r.cell_count) + "/" +
                    std::to_string(r.good_cells) + "/" + (r.blank ? "B" : "-");
  for (std::size_t i = 0; i < r.cell_count && i < 2; ++i) out += "|" + r.cells[i];
  return out;
}

std::string show(const Feed& f) {
  std::string out = f.origin + "\n";
  for (const auto& row : f.rows)
    out += row.sku + "=" + std::to_string(row.quantity) + "@" + std::to_string(row.line) + ";";
  out += "\n";
  for (const auto& p : f.problems) out += std::to_string(p.line) + "|" + p.sku + "|" + p.message;
  for (const auto& s : f.held_skus) out += "held " + s;
  return out;
}

std::string parsed(std::istream& in, const std::string& text, const CsvFeedOptions& options,
                   bool stream) {
  try {
    return show(stream ? parse_csv_feed(in, options, "f") : parse_csv_feed(text, options, "f"));
  } catch (const WarehouseError& e) {
    return std::string("error: ") + e.what();
  }
}

}  // namespace

TEST_CASE("plain lines split as the general reader splits them") {
  std::mt19937 rng(3);
  int compared = 0;
  for (int round = 0; round < 400; ++round) {
    CAPTURE(round);
    const char delimiter = round % 3 == 0 ? ';' : ',';
    const auto text = random_text(rng, false, delimiter);
    CAPTURE(text);
    CsvReaderOptions options{delimiter, 80, 1 + rng() % 40, nullptr};
    std::istringstream in(text);
    PlainCsvLines fast(in, options);
    CsvRecordReader general(text, options);
    if (round % 2 == 0) {
      fast.keep_only({0, 1});
      general.keep_only({0, 1});
    }
    CsvRecord a, b;
    for (;;) {
      const auto got = fast.next(a);
      CAPTURE(show(a));
      CAPTURE(options.chunk_bytes);
      REQUIRE(got != PlainCsvLines::Next::not_plain);
      const bool more = general.next(b);
      REQUIRE((got == PlainCsvLines::Next::record) == more);
      if (!more) break;
      CHECK(show(a) == show(b));
      ++compared;
    }
  }
  CHECK(compared > 3000);
}

TEST_CASE("a feed parsed from a stream (the fast path) is the feed parsed by the general reader") {
  // Inputs with quotes and over-long lines too: the fast path gives up, the general one parses.
  std::mt19937 rng(9);
  for (int round = 0; round < 400; ++round) {
    CAPTURE(round);
    const char delimiter = round % 5 == 0 ? '\t' : round % 3 == 0 ? ';' : ',';
    const auto text = random_text(rng, round % 2 == 1, delimiter);
    CAPTURE(text);
    CsvFeedOptions options;
    options.delimiter = delimiter;
    options.max_row_bytes = 80;
    options.chunk_bytes = 1 + rng() % 50;
    options.duplicates = round % 4 == 0 ? DuplicatePolicy::sum : DuplicatePolicy::error;
    std::istringstream in(text);
    CHECK(parsed(in, text, options, true) == parsed(in, text, options, false));
  }
}

TEST_CASE("a feed file goes back to its start when the fast path gives up far into it") {
  // Bigger than FeedFileBuf's buffer and the parser's chunk, so the quote that sends the input
  // back to the general reader comes after several reads and a seek.
  pb::test::ScratchDir dir;
  std::string text = "sku,quantity\n";
  for (int i = 0; i < 60000; ++i) text += "SKU-" + std::to_string(100000 + i) + "," + "7\n";
  const auto plain_path = dir.path() / "plain.csv";
  pb::test::write_file(plain_path, text);
  text += "\"SKU-,9\",3\n";
  const auto quoted_path = dir.path() / "quoted.csv";
  pb::test::write_file(quoted_path, text);
  for (const auto& path : {plain_path, quoted_path}) {
    CAPTURE(path);
    FeedFileBuf buffer(path, kMaxFeedFileBytes, nullptr);
    std::istream in(&buffer);
    const CsvFeedOptions options;
    const auto from_file = show(parse_csv_feed(in, options, "f"));
    CHECK(from_file == show(parse_csv_feed(pb::test::read_file(path), options, "f")));
    CHECK(from_file.find("SKU-159999=7@60001;") != std::string::npos);
  }
}
