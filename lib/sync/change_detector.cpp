#include "sync/change_detector.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace pb::sync {
namespace {

bool is_held(const connectors::Feed& feed, std::string_view sku) {
  return std::binary_search(feed.held_skus.begin(), feed.held_skus.end(), sku,
                            [](auto a, auto b) { return std::string_view(a) < std::string_view(b); });
}

// Applies the warehouse figure `quantity` to `item`; returns whether anything
// stored changed.
bool update_item(state::ItemRecord& item, Quantity quantity, const Rules& rules, UnixMillis now,
                 DetectResult& result) {
  bool dirty = false;
  if (item.quantity != quantity) {
    if (quantity == 0 && item.quantity != 0 && item.listed) ++result.zeroed;
    item.quantity = quantity;
    item.updated_at = now;
    ++result.changed;
    dirty = true;
  }
  if (!item.listed) {
    item.listed = true;
    dirty = true;
  }
  // The rules may have changed since the last feed even when the figure did not.
  const Quantity wanted = wanted_quantity(quantity, rules);
  if (item.wanted != wanted) {
    item.wanted = wanted;
    dirty = true;
  }
  return dirty;
}

}  // namespace

DetectResult apply_feed(state::InventoryDb& db, std::string_view connection,
                        const connectors::Feed& feed, const Rules& rules, UnixMillis now) {
  if (feed.rows.empty())
    throw FeedRefused("feed " + feed.origin + " has no usable rows; refusing it (nothing changed)");

  DetectResult result;
  db.write(connection, [&](state::ConnectionTxn& txn) {
    result = DetectResult{};
    result.rows = feed.rows.size();
    // Rows are sorted like LMDB's keys, so one cursor walk merges the feed
    // with the stored items instead of a random lookup per row.
    std::vector<std::size_t> new_rows;
    auto cursor = txn.item_cursor();
    bool more = cursor.seek();
    std::size_t i = 0;
    while (more || i < feed.rows.size()) {
      const int order = !more                    ? 1
                        : i == feed.rows.size() ? -1
                                                : cursor.key().compare(feed.rows[i].sku);
      if (order > 0) {  // in the feed only
        new_rows.push_back(i++);
        continue;
      }
      const std::string sku(cursor.key());
      auto item = state::decode_item(cursor.value());
      if (item.listed) ++result.known_before;
      bool dirty = false;
      if (order == 0) {
        dirty = update_item(item, feed.rows[i].quantity, rules, now, result);
        ++i;
      } else if (!item.listed || is_held(feed, sku)) {
        // already left alone, or its row was bad: keeps its previous state
      } else if (rules.missing_skus == MissingSkus::zero) {
        dirty = update_item(item, 0, rules, now, result);
      } else {
        item.listed = false;
        ++result.unlisted;
        dirty = true;
      }
      if (dirty) txn.put_item(sku, item);
      if (item.listed) ++result.listed;
      if (item.needs_push()) ++result.pending;
      more = cursor.next();
    }
    for (const std::size_t row : new_rows) {
      state::ItemRecord item;
      item.quantity = feed.rows[row].quantity;
      item.updated_at = now;
      item.wanted = wanted_quantity(item.quantity, rules);
      txn.put_item(feed.rows[row].sku, item);
      ++result.added;
      ++result.changed;
      ++result.listed;
      ++result.pending;
    }
    if (result.known_before > 0 &&
        static_cast<double>(result.zeroed) >
            kMaxZeroedShare * static_cast<double>(result.known_before)) {
      throw FeedRefused("feed " + feed.origin + " would set " + std::to_string(result.zeroed) +
                        " of " + std::to_string(result.known_before) +
                        " known SKUs to 0 (more than half); refusing it (nothing changed)");
    }
  });
  return result;
}

}  // namespace pb::sync
