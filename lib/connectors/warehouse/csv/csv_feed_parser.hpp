// Turns a warehouse's CSV inventory export into a Feed: finds the SKU and quantity columns by
// name, reports unusable rows as problems, resolves duplicate SKUs. Pure and synchronous.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/warehouse/feed.hpp"
#include "core/types.hpp"

namespace pb::connectors {

struct CsvFeedOptions {
  std::string sku_column = "sku";
  std::string quantity_column = "quantity";
  char delimiter = ',';
  DuplicatePolicy duplicates = DuplicatePolicy::error;
  // When set: rows at a location not in `locations` (unless it is empty) are left out, and a
  // SKU's rows at different locations are added up (location_totals.hpp).
  std::string location_column;
  std::vector<std::string> locations;
  // A longer row is a problem, not an allocation: a broken quote must not eat the file.
  std::size_t max_row_bytes = 64 * 1024;
  // Read size; tests shrink it so rows split across chunk boundaries.
  std::size_t chunk_bytes = 256 * 1024;
  // Once set, reading stops at the next chunk and the parse throws WarehouseError (a feed read
  // in part must not pass for a snapshot). Null: never stops.
  const std::atomic<bool>* stop = nullptr;
  // The input's size in bytes when the stream cannot tell (a pipe-like stream buffer), to size
  // the row array once; 0: unknown.
  std::uint64_t expected_bytes = 0;
  // Rows it knows are dropped and counted in Feed::sieved (not with a location column, whose
  // rows are added up later); the row array is then not sized for the whole input. Null: none.
  FeedSieve* sieve = nullptr;
};

// The first line is the header; other columns are ignored. A row that cannot be used (no SKU,
// blank or non-integer quantity, too few cells, bad quoting, too long) becomes a FeedProblem on
// the line where it starts, and its SKU, if any, is held. A held SKU has no row at all, even if
// other rows name it correctly: its previous state is kept. Duplicate SKUs are either all
// problems (DuplicatePolicy::error) or summed into the first row (DuplicatePolicy::sum). A blank
// line before the last row is a problem; trailing blank lines are ignored. With a location
// column, duplicates are SKUs listed twice at one location.
//
// A SKU longer than kMaxSkuBytes (core/sku.hpp) or not valid UTF-8 makes a bad row too.
//
// Throws WarehouseError (naming `origin`) when the header lacks a column or names one twice,
// the input is empty, the stream reports a read error, or `stop` was set.
Feed parse_csv_feed(std::istream& in, const CsvFeedOptions& options, std::string origin);
Feed parse_csv_feed(std::string_view text, const CsvFeedOptions& options, std::string origin);

}  // namespace pb::connectors
