// libFuzzer target for the warehouse CSV feed parser. Input: one options byte,
// one byte for the delimiter / chunk size, then the CSV text. Checks the Feed's
// documented invariants (every row's SKU is UTF-8 of at most kMaxSkuBytes, every message is
// UTF-8 whatever bytes the input holds) and that the stream overload, reading in tiny chunks,
// gives exactly the same Feed as the string overload. Only WarehouseError (bad
// header, empty input) is an expected failure.
#include <array>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "connectors/warehouse/csv/csv_feed_parser.hpp"
#include "connectors/warehouse/feed.hpp"
#include "core/sku.hpp"
#include "core/utf8.hpp"

namespace {

using pb::connectors::CsvFeedOptions;
using pb::connectors::Feed;
using pb::connectors::WarehouseError;

// Column names as a configuration could set them (non-empty); the last pair
// reads both from one column, which the schema does not forbid.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kColumns{{
    {"sku", "quantity"},
    {"SKU", "Qty"},
    {"Item Number", "On Hand"},
    {"x", "x"},
}};
constexpr std::array<char, 6> kDelimiters{',', ';', '\t', '|', ' ', ':'};
// Small row limits exercise the too-long path, which must not depend on chunking.
constexpr std::array<std::size_t, 4> kMaxRowBytes{64 * 1024, 3, 12, 40};

// byte 0: bits 0-2 delimiter (7: take it from byte 1), bit 3 duplicates policy,
//         bits 4-5 column names, bits 6-7 max row bytes.
// byte 1: chunk size of the stream read (1-16), or the delimiter itself.
CsvFeedOptions options_from(std::uint8_t b0, std::uint8_t b1) {
  CsvFeedOptions o;
  const unsigned d = b0 & 7u;
  if (d < kDelimiters.size()) {
    o.delimiter = kDelimiters[d];
  } else {
    const char c = static_cast<char>(b1);
    // The characters config_schema.cpp refuses as a delimiter.
    o.delimiter = (c == '"' || c == '\r' || c == '\n' || c == '\0') ? ',' : c;
  }
  o.duplicates = (b0 & 8u) != 0 ? pb::DuplicatePolicy::sum : pb::DuplicatePolicy::error;
  const auto& [sku, quantity] = kColumns[(b0 >> 4) & 3u];
  o.sku_column = sku;
  o.quantity_column = quantity;
  o.max_row_bytes = kMaxRowBytes[(b0 >> 6) & 3u];
  return o;
}

void check_invariants(const Feed& feed) {
  for (std::size_t i = 0; i < feed.rows.size(); ++i) {
    if (feed.rows[i].sku.empty() || feed.rows[i].line < 2) __builtin_trap();
    if (pb::sku_problem(feed.rows[i].sku)) __builtin_trap();
    // Sorted by SKU in byte order, and unique.
    if (i > 0 && !(feed.rows[i - 1].sku < feed.rows[i].sku)) __builtin_trap();
  }
  for (std::size_t i = 0; i < feed.held_skus.size(); ++i) {
    if (feed.held_skus[i].empty() || feed.held_skus[i].size() > pb::kMaxSkuBytes) __builtin_trap();
    if (i > 0 && !(feed.held_skus[i - 1] < feed.held_skus[i])) __builtin_trap();
  }
  // Disjoint: both are sorted, so one merge pass.
  std::size_t r = 0;
  for (const std::string& held : feed.held_skus) {
    while (r < feed.rows.size() && feed.rows[r].sku < held) ++r;
    if (r < feed.rows.size() && feed.rows[r].sku == held) __builtin_trap();
  }
  for (std::size_t i = 0; i < feed.problems.size(); ++i) {
    if (feed.problems[i].line < 1 || feed.problems[i].message.empty()) __builtin_trap();
    if (!pb::utf8::is_valid(feed.problems[i].message)) __builtin_trap();
    if (i > 0 && feed.problems[i - 1].line > feed.problems[i].line) __builtin_trap();
  }
}

bool same(const Feed& a, const Feed& b) {
  if (a.rows.size() != b.rows.size() || a.problems.size() != b.problems.size() ||
      a.held_skus != b.held_skus)
    return false;
  for (std::size_t i = 0; i < a.rows.size(); ++i) {
    const auto &x = a.rows[i], &y = b.rows[i];
    if (x.sku != y.sku || x.quantity != y.quantity || x.line != y.line) return false;
  }
  for (std::size_t i = 0; i < a.problems.size(); ++i) {
    const auto &x = a.problems[i], &y = b.problems[i];
    if (x.line != y.line || x.sku != y.sku || x.message != y.message) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  CsvFeedOptions options = options_from(data[0], data[1]);
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);

  Feed whole;
  bool whole_failed = false;
  try {
    whole = pb::connectors::parse_csv_feed(text, options, "fuzz.csv");
    check_invariants(whole);
  } catch (const WarehouseError& e) {
    if (!pb::utf8::is_valid(e.what())) __builtin_trap();
    whole_failed = true;
  }

  options.chunk_bytes = 1 + (data[1] & 15u);
  std::istringstream stream{std::string(text)};
  Feed chunked;
  bool chunked_failed = false;
  try {
    chunked = pb::connectors::parse_csv_feed(stream, options, "fuzz.csv");
  } catch (const WarehouseError&) {
    chunked_failed = true;
  }
  if (whole_failed != chunked_failed) __builtin_trap();
  if (!whole_failed && !same(whole, chunked)) __builtin_trap();
  return 0;
}
