// libFuzzer target for the pages of a `type: http-json` warehouse (json_feed_builder.hpp).
// Input: one options byte, then the body of one page, then (after a NUL) the body of a second.
// Checks the Feed's documented invariants; only WarehouseError (a body that is not JSON, no
// list of items, a next cursor of the wrong kind) is an expected failure.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "connectors/warehouse/feed.hpp"
#include "connectors/warehouse/http/json_feed_builder.hpp"

namespace {

using pb::connectors::Feed;
using pb::connectors::WarehouseError;

// bit 0: items_field "" (the body is the list) or "items"; bit 1: duplicates sum; bit 2:
// location field "loc" (bit 3: only locations "A" and "B"); bit 4: updated_since_param set;
// bit 5: cursor paging; bit 6: dotted field paths.
pb::config::HttpJsonWarehouseConfig config_from(std::uint8_t b) {
  pb::config::HttpJsonWarehouseConfig c;
  if ((b & 1u) != 0) c.items_field.clear();
  c.duplicates = (b & 2u) != 0 ? pb::DuplicatePolicy::sum : pb::DuplicatePolicy::error;
  if ((b & 4u) != 0) {
    c.location_field = "loc";
    if ((b & 8u) != 0) c.locations = {"A", "B"};
  }
  if ((b & 16u) != 0) c.updated_since_param = "since";
  if ((b & 32u) != 0) c.paging = pb::config::JsonPaging::cursor;
  if ((b & 64u) != 0) {
    c.sku_field = "p.sku";
    c.quantity_field = "s.0.q";
    c.next_cursor_field = "m.next";
  }
  return c;
}

void check_invariants(const Feed& feed) {
  for (std::size_t i = 0; i < feed.rows.size(); ++i) {
    if (feed.rows[i].sku.empty() || feed.rows[i].line < 1) __builtin_trap();
    if (i > 0 && !(feed.rows[i - 1].sku < feed.rows[i].sku)) __builtin_trap();
  }
  for (std::size_t i = 0; i < feed.held_skus.size(); ++i) {
    if (feed.held_skus[i].empty()) __builtin_trap();
    if (i > 0 && !(feed.held_skus[i - 1] < feed.held_skus[i])) __builtin_trap();
  }
  std::size_t r = 0;
  for (const std::string& held : feed.held_skus) {
    while (r < feed.rows.size() && feed.rows[r].sku < held) ++r;
    if (r < feed.rows.size() && feed.rows[r].sku == held) __builtin_trap();
  }
  for (std::size_t i = 0; i < feed.problems.size(); ++i) {
    if (feed.problems[i].line < 1 || feed.problems[i].message.empty()) __builtin_trap();
    if (i > 0 && feed.problems[i - 1].line > feed.problems[i].line) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto config = config_from(data[0]);
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto split = rest.find('\0');
  pb::connectors::JsonFeedBuilder builder(config, "https://fuzz.test/items");
  try {
    const auto first = builder.add_page(rest.substr(0, split), 1);
    if (first.next_cursor && first.next_cursor->empty()) __builtin_trap();
    if (split != std::string_view::npos) builder.add_page(rest.substr(split + 1), 2);
  } catch (const WarehouseError&) {
    return 0;
  }
  check_invariants(builder.finish());
  return 0;
}
