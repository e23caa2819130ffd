// `inventory` in pages: a walk of one connection's items (or its change index)
// in SKU order that never holds more than one page, bounded by count and by
// bytes, and that gives the pool thread back after a bounded number of keys,
// however few of them match. Synchronous: beed runs each step() off the loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/array.hpp>

#include "control/commands.hpp"
#include "service/sku_glob.hpp"
#include "state/inventory_db.hpp"

namespace pb::service {

struct PageBounds {
  std::size_t max_items = control::kReplyPageItems;
  std::size_t max_bytes = std::size_t{1} << 20;  // of serialized items: well under a frame
  std::size_t max_scanned = 20'000;              // keys one step may visit
};

// An upper bound on the serialized size of item_json(sku, item, ...): fixed members plus the
// two free-text ones escaped at worst (\u00XX, six bytes a byte).
std::size_t item_bytes_bound(std::string_view sku, const state::ItemRecord& item);

struct InventoryQuery {
  std::string connection;
  std::optional<SkuGlob> glob;
  bool changed_only = false;
  std::optional<std::string> after;  // list SKUs after this one only
  std::uint64_t limit = 0;           // items in all pages together; 0: no limit
};

struct InventoryPage {
  boost::json::array items;
  std::size_t bytes = 0;   // item_bytes_bound summed
  bool last = false;       // nothing follows this page
  bool truncated = false;  // last, and the limit left out matching SKUs
  // Where the next listing starts (`after`) when truncated; none otherwise.
  std::optional<std::string> next_after;
};

class InventoryPager {
 public:
  InventoryPager(state::InventoryDb& db, InventoryQuery query, PageBounds bounds = {});

  // Walks on for at most bounds.max_scanned keys, in one read transaction.
  void step();
  // A full page or the last one is ready to take.
  bool ready() const { return full_ || done_; }
  // The page so far; the walk then goes on from where it stopped.
  InventoryPage take();
  bool finished() const { return done_ && taken_last_; }

 private:
  state::InventoryDb& db_;
  InventoryQuery query_;
  PageBounds bounds_;
  std::optional<std::string> position_;  // the last key walked past
  std::optional<std::string> last_listed_;
  std::uint64_t listed_ = 0;
  InventoryPage page_;
  bool full_ = false;
  bool done_ = false;
  bool truncated_ = false;
  bool taken_last_ = false;
};

}  // namespace pb::service
