#include "connectors/warehouse/postgres/postgres_rows.hpp"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "connectors/warehouse/feed_assembly.hpp"

namespace pb::connectors {
namespace {

// "12.000" -> "12"; anything else, "12.5" and "NaN" included, is left for parse_quantity to
// refuse. NUMERIC never prints an exponent.
std::string_view whole_part(std::string_view s) {
  const auto dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0) return s;
  if (s.find_first_not_of('0', dot + 1) != std::string_view::npos) return s;
  return s.substr(0, dot);
}

}  // namespace

PostgresFeedBuilder::PostgresFeedBuilder(std::string origin, DuplicatePolicy duplicates,
                                         QuantityText quantity_text,
                                         std::optional<LocationTotals> locations, FeedSieve* sieve)
    : duplicates_(duplicates),
      quantity_text_(quantity_text),
      locations_(std::move(locations)),
      sieve_(locations_ ? nullptr : sieve) {
  feed_.origin = std::move(origin);
}

void PostgresFeedBuilder::add(std::uint64_t row, std::optional<std::string_view> sku_value,
                              std::optional<std::string_view> quantity_value,
                              std::optional<std::string_view> location_value) {
  Feed* target = &feed_;
  if (locations_) {
    const std::string_view location = trim_blanks(location_value.value_or(std::string_view{}));
    if (!locations_->wanted(location)) return;
    target = &locations_->at(location);
  }
  Feed& feed = *target;
  if (!sku_value) {
    add_problem(feed, row, {}, "SKU is NULL");
    return;
  }
  const std::string_view sku = trim_blanks(*sku_value);
  if (sku.empty()) {
    add_problem(feed, row, {}, "no SKU (blank)");
    return;
  }
  if (!check_sku(feed, row, sku)) return;
  // Rows of a query have no meaningful line numbers (without ORDER BY not even a stable
  // order): the messages name the SKU too.
  const auto about = [&] { return "SKU " + quote_for_message(sku) + ": "; };
  if (!quantity_value) {
    add_problem(feed, row, sku, about() + "quantity is NULL (NULL is not zero)");
    return;
  }
  std::string_view text = trim_blanks(*quantity_value);
  if (text.empty()) {
    add_problem(feed, row, sku, about() + "blank quantity (blank is not zero)");
    return;
  }
  if (quantity_text_ == QuantityText::decimal) text = whole_part(text);
  Quantity quantity = 0;
  switch (parse_quantity(text, quantity)) {
    case QuantityParse::ok:
      if (sieve_ && sieve_->known(sku, quantity)) {
        ++feed.sieved;
        return;
      }
      // The row count is not known in advance (rows arrive one by one). Grow by doubling as
      // push_back would, but through reserve_rows, so each new array asks for huge pages: at a
      // million rows, first-touch page faults cost more than the rows themselves. Not for
      // the parts of many locations, where 4096 rows each could add up to much unused memory.
      if (!locations_ && feed.rows.size() == feed.rows.capacity())
        reserve_rows(feed, std::max<std::size_t>(4096, feed.rows.capacity() * 2));
      feed.rows.push_back(FeedRow{std::string(sku), quantity, row});
      return;
    case QuantityParse::not_integer:
      add_problem(feed, row, sku,
                  about() + "quantity " + quote_for_message(trim_blanks(*quantity_value)) +
                      " is not an integer");
      return;
    case QuantityParse::out_of_range:
      add_problem(feed, row, sku,
                  about() + "quantity " + quote_for_message(trim_blanks(*quantity_value)) +
                      " is out of range");
      return;
  }
}

Feed PostgresFeedBuilder::finish() {
  return finish_rows(feed_, duplicates_, locations_);
}

}  // namespace pb::connectors
