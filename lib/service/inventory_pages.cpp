#include "service/inventory_pages.hpp"

#include <utility>

#include "service/json_views.hpp"

namespace pb::service {

std::size_t item_bytes_bound(std::string_view sku, const state::ItemRecord& item) {
  // 9 members with their keys, four 20-digit numbers, two timestamps, two booleans: 235
  // bytes at most; 320 leaves room for longer timestamps.
  return 320 + 6 * (sku.size() + item.error.size());
}

InventoryPager::InventoryPager(state::InventoryDb& db, InventoryQuery query, PageBounds bounds)
    : db_(db), query_(std::move(query)), bounds_(bounds), position_(query_.after) {}

void InventoryPager::step() {
  if (done_ || full_) return;
  db_.read(query_.connection, [&](state::ConnectionTxn& txn) {
    const auto full = txn.connection().full_confirmation;
    auto cursor = query_.changed_only ? txn.pending_cursor() : txn.item_cursor();
    bool ok = position_ ? cursor.seek(*position_) : cursor.seek();
    if (ok && position_ && cursor.key() == *position_) ok = cursor.next();
    for (std::size_t scanned = 0; ok && scanned < bounds_.max_scanned; ++scanned) {
      const std::string_view sku = cursor.key();
      if (!query_.glob || query_.glob->matches(sku)) {
        const auto item = query_.changed_only ? txn.item(sku) : state::decode_item(cursor.value());
        if (item) {
          if (query_.limit != 0 && listed_ >= query_.limit) {
            truncated_ = true;  // one more matches: enough to know, so stop here
            done_ = true;
            return;
          }
          const std::size_t bytes = item_bytes_bound(sku, *item);
          if (page_.items.size() >= bounds_.max_items ||
              (!page_.items.empty() && page_.bytes + bytes > bounds_.max_bytes)) {
            full_ = true;  // this SKU opens the next page: not walked past
            return;
          }
          page_.items.push_back(
              item_json(sku, *item, query_.changed_only || txn.is_pending(sku), full));
          page_.bytes += bytes;
          ++listed_;
          last_listed_ = std::string(sku);
        }
      }
      position_ = std::string(sku);
      ok = cursor.next();
    }
    if (!ok) done_ = true;
  });
}

InventoryPage InventoryPager::take() {
  InventoryPage page = std::exchange(page_, {});
  page.last = done_;
  if (done_) {
    taken_last_ = true;
    page.truncated = truncated_;
    if (truncated_) page.next_after = last_listed_;
  } else {
    page.next_after = last_listed_;
  }
  full_ = false;
  return page;
}

}  // namespace pb::service
