// The rules every warehouse reader shares for turning the rows and problems it collected into a
// Feed: rows sorted by SKU, duplicates resolved by the policy, held SKUs without a row. The CSV
// parser and the PostgreSQL reader both end here, so a feed means the same whatever its source.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/warehouse/feed.hpp"
#include "core/types.hpp"

namespace pb::connectors {

// `s` without the spaces and tabs around it: exports pad cells, and a padded SKU is the same SKU.
std::string_view trim_blanks(std::string_view s);

// A cell or SKU quoted for a message, cut at 64 bytes (cells can be 64 KiB) without splitting
// a character, each byte that is not UTF-8 written as "\xC9" (utf8.hpp).
std::string quote_for_message(std::string_view s);

enum class QuantityParse { ok, not_integer, out_of_range };

// A quantity written as a decimal integer: an optional sign (a plus sign too, which some exports
// write for positive stock), digits, nothing else. Negative (oversold) stock is valid; the
// inventory rules clamp what is pushed at zero.
QuantityParse parse_quantity(std::string_view s, Quantity& out);

// Records a row that cannot be used; its SKU, if any, is held (keeps its previous state),
// unless it is longer than kMaxSkuBytes (then it cannot have a previous state).
void add_problem(Feed& feed, std::uint64_t line, std::string_view sku, std::string message);

// Whether `sku` (not empty) can be kept (core/sku.hpp: at most kMaxSkuBytes bytes of UTF-8).
// If not, records the row as a problem, "<prefix>SKU '...' is longer than 255 bytes (300)",
// and returns false.
bool check_sku(Feed& feed, std::uint64_t line, std::string_view sku, std::string_view prefix = {});

// Reserves room for `rows` rows, asking for transparent huge pages on the array: for a
// million-row feed first-touch page faults cost more than the parsing.
void reserve_rows(Feed& feed, std::size_t rows);

// Sorts the rows by (SKU, line), resolves duplicate SKUs (all problems under
// DuplicatePolicy::error; summed into the first row under DuplicatePolicy::sum, a problem if the
// sum overflows), sorts and deduplicates held_skus, drops every row of a held SKU, and orders
// the problems by line.
void finish_feed(Feed& feed, DuplicatePolicy duplicates);

}  // namespace pb::connectors
