// Turns the pages of a `type: http-json` warehouse into a Feed: finds each item's SKU,
// quantity, location and updated_at by their field paths, and applies the rules every feed
// shares (feed_assembly.hpp): an item that cannot be used is a problem naming its page and
// index, and its SKU is held. Pure and synchronous: no HTTP here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "connectors/warehouse/feed.hpp"
#include "connectors/warehouse/http/json_field_path.hpp"
#include "connectors/warehouse/location_totals.hpp"

namespace pb::connectors {

// What the pager needs to know of a page.
struct JsonPage {
  std::size_t items = 0;  // every item of the page, whatever became of it
  // paging: cursor: the next page's cursor (a string, or an integer as text); nullopt when it is
  // null, absent or "" (this page is the last).
  std::optional<std::string> next_cursor;
};

class JsonFeedBuilder {
 public:
  // Throws std::invalid_argument for a field path with an empty segment (the configuration
  // loader refuses those).
  JsonFeedBuilder(const config::HttpJsonWarehouseConfig& config, std::string origin);

  // Parses one page's body (`page` counts from 1) and adds its items. A quantity is a JSON
  // integer, a number with no fraction, or a string holding an integer; null, absent,
  // fractional or anything else is a problem. The SKU is a string (trimmed) or an integer.
  // With updated_since_param configured, an item without an RFC 3339 updated_at is a problem.
  // Throws WarehouseError when the body is not JSON, or holds neither a list nor null at
  // items_field (null is an empty page).
  JsonPage add_page(std::string_view body, std::uint64_t page);

  // The newest updated_at among all items so far (of any location, problems included), if any
  // had one.
  std::optional<std::chrono::sys_seconds> newest_update() const { return newest_; }

  // Sorted, duplicates resolved, held SKUs without a row. Call once.
  Feed finish();

 private:
  void add_item(const boost::json::value& item, std::uint64_t page, std::size_t index);
  // The item's updated_at if it is an RFC 3339 time, which newest_ then counts.
  std::optional<std::chrono::sys_seconds> note_updated_at(const boost::json::value* value);
  // The feed of the item's location; nullptr for a location not configured.
  Feed* feed_for(const boost::json::value& item);

  std::string origin_;
  DuplicatePolicy duplicates_;
  bool cursor_paging_;
  bool updated_at_required_;
  JsonFieldPath items_;
  JsonFieldPath sku_;
  JsonFieldPath quantity_;
  std::optional<JsonFieldPath> location_;
  JsonFieldPath updated_at_;
  JsonFieldPath next_cursor_;
  std::string items_label_;  // "items" in "page 2, items[3]"

  Feed feed_;
  std::optional<LocationTotals> locations_;
  std::uint64_t ordinal_ = 0;  // items so far: the line number of rows and problems
  std::optional<std::chrono::sys_seconds> newest_;
};

}  // namespace pb::connectors
