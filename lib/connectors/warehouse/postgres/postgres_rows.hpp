// Turns the rows a `type: postgres` warehouse query returns, as libpq's text values, into a Feed
// by the same rules as a CSV feed (feed_assembly.hpp). Pure and synchronous: no libpq here, so
// the rules are unit-tested without a server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/warehouse/feed.hpp"
#include "connectors/warehouse/location_totals.hpp"
#include "core/types.hpp"

namespace pb::connectors {

// How the quantity column writes its values. NUMERIC and floating-point columns print whole
// numbers as "12.000" or "12": a fraction of zeros is accepted there. Integer and text columns
// follow the CSV rule: an optional sign and digits only.
enum class QuantityText { integer, decimal };

class PostgresFeedBuilder {
 public:
  // With `locations` (the query has a location column), rows are counted per location and
  // added up per SKU (location_totals.hpp).
  // `sieve` (optional, not with locations): a row it knows is dropped and counted in
  // Feed::sieved (FeedSieve), as the CSV reader does.
  PostgresFeedBuilder(std::string origin, DuplicatePolicy duplicates, QuantityText quantity_text,
                      std::optional<LocationTotals> locations = std::nullopt,
                      FeedSieve* sieve = nullptr);

  // One result row; `row` counts from 1 and is reported as the problem's line. std::nullopt is
  // SQL NULL. The SKU is trimmed of spaces and tabs (CHAR(n) pads with spaces); so is a text
  // quantity. A row without a usable SKU or quantity becomes a problem naming the row and SKU,
  // and that SKU is held (keeps its previous state); NULL is never read as zero. `location` is
  // read only when the builder was given locations; it is trimmed too, and NULL reads as blank.
  void add(std::uint64_t row, std::optional<std::string_view> sku,
           std::optional<std::string_view> quantity,
           std::optional<std::string_view> location = std::nullopt);

  // Sorted, duplicates resolved, held SKUs without a row. Call once.
  Feed finish();

 private:
  Feed feed_;
  DuplicatePolicy duplicates_;
  QuantityText quantity_text_;
  std::optional<LocationTotals> locations_;
  FeedSieve* sieve_ = nullptr;
};

}  // namespace pb::connectors
