#include "sync/change_detector.hpp"

#include "sync/change_detector_digest.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace pb::sync {
namespace {

// Writes per transaction while applying a feed (detail::kWritesPerTransaction). Bounds the
// dirty pages LMDB holds in memory (a first sync of a million SKUs would otherwise keep ~200 MB
// of them until commit); each chunk still writes items and the change index together, so a
// kill between chunks leaves the index true.
using detail::kWritesPerTransaction;

bool is_held(const connectors::Feed& feed, std::string_view sku) {
  return std::binary_search(feed.held_skus.begin(), feed.held_skus.end(), sku, [](auto a, auto b) {
    return std::string_view(a) < std::string_view(b);
  });
}

}  // namespace

// Applies the warehouse figure `quantity` to `item`; returns whether anything
// stored changed.
bool detail::update_item(state::ItemRecord& item, Quantity quantity, const Rules& rules,
                         UnixMillis now, DetectResult& result) {
  bool dirty = false;
  if (item.quantity != quantity) {
    if (quantity == 0 && item.quantity != 0 && item.listed) ++result.zeroed;
    item.quantity = quantity;
    item.updated_at = now;
    ++result.changed;
    dirty = true;
  }
  if (!item.listed) {
    // Back in the feed. While it was out beed pushed nothing for it (a Full Sync passed it by)
    // and the store's figure may have moved: what beed knows of it is in doubt until the store
    // confirms a push.
    item.listed = true;
    item.in_doubt = item.in_doubt || item.store_quantity.has_value();
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

namespace {
using detail::update_item;

// Where a merge walk stopped: the next feed row, and the last SKU handled.
struct Position {
  std::size_t row = 0;
  std::string last_sku;
  bool started = false;
  bool done = false;
};

// One merge of the feed with the stored items, in SKU order (the feed is
// sorted like LMDB's keys, so a cursor walk replaces a lookup per row), from
// `from` until the end or until `max_writes` items were written. With
// `write` false nothing is written: the pass that decides the guards.
// `visit` (optional) sees every SKU the walk touches: its stored record (null
// for a new SKU) and the record after this feed.
// It returns false to stop the walk after that SKU.
using Visitor = std::function<bool(std::string_view sku, const state::ItemRecord* before,
                                   const state::ItemRecord& after, bool stale)>;

// Confirmed by the store longer ago than repush_after, and not pending for another reason.
bool is_stale(std::string_view sku, const state::ItemRecord& item,
              const state::FullConfirmation& full, const Rules& rules, UnixMillis now) {
  if (rules.repush_after <= 0 || !item.listed || item.needs_push()) return false;
  const auto confirmed = state::confirmed_at(sku, item, full);
  return confirmed > 0 && now - confirmed >= rules.repush_after;
}

Position merge(state::ConnectionTxn& txn, const connectors::Feed& feed, const Rules& rules,
               UnixMillis now, Position from, bool write, std::uint64_t max_writes,
               DetectResult& result, const Visitor& visit = {}) {
  // Writes wait until the walk is over: LMDB does not keep a cursor's place
  // reliably across inserts into the table it walks (a unit test caught
  // skipped keys). A chunk's writes are bounded, so holding them is cheap.
  std::vector<std::pair<std::string, state::ItemRecord>> writes;
  const auto full =
      rules.repush_after > 0 ? txn.connection().full_confirmation : state::FullConfirmation{};
  auto cursor = txn.item_cursor();
  bool more = cursor.seek(from.last_sku);
  if (more && from.started && cursor.key() == from.last_sku) more = cursor.next();
  std::size_t i = from.row;
  Position at = from;
  bool stopped = false;
  while ((more || i < feed.rows.size()) && writes.size() < max_writes && !stopped) {
    const int order = !more                   ? 1
                      : i == feed.rows.size() ? -1
                                              : cursor.key().compare(feed.rows[i].sku);
    std::string sku;
    state::ItemRecord item;
    std::optional<state::ItemRecord> before;
    bool dirty = false;
    bool stale_now = false;
    bool had_stock = false;
    if (order > 0) {  // in the feed only: a new SKU
      sku = feed.rows[i].sku;
      item.quantity = feed.rows[i].quantity;
      item.updated_at = now;
      item.wanted = wanted_quantity(item.quantity, rules);
      ++result.added;
      ++result.changed;
      dirty = true;
      ++i;
    } else {
      sku = cursor.key();
      item = state::decode_item(cursor.value());
      if (visit) before = item;
      had_stock = item.quantity > 0;
      if (item.listed) ++result.known_before;
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
    }
    // The walk passes every stored SKU anyway: marking the stale ones here costs nothing.
    if (order <= 0 && is_stale(sku, item, full, rules, now)) {
      item.in_doubt = true;
      ++result.stale;
      dirty = true;
      if (visit) stale_now = true;
    }
    if (item.listed) ++result.listed;
    if (item.needs_push()) ++result.pending;
    if (had_stock) ++result.in_stock_before;
    if (item.quantity > 0) ++result.in_stock;
    if (visit) stopped = !visit(sku, before ? &*before : nullptr, item, stale_now);
    if (order <= 0) more = cursor.next();
    at.row = i;
    at.last_sku = sku;
    at.started = true;
    if (dirty && write) writes.emplace_back(std::move(sku), std::move(item));
  }
  at.done = !more && i == feed.rows.size();
  for (const auto& [key, record] : writes) txn.put_item(key, record);
  return at;
}

// Adds a committed transaction's counts to the run's.
void add_counts(DetectResult& total, const DetectResult& part) {
  total.known_before += part.known_before;
  total.added += part.added;
  total.changed += part.changed;
  total.zeroed += part.zeroed;
  total.unlisted += part.unlisted;
  total.listed += part.listed;
  total.pending += part.pending;
  total.stale += part.stale;
  total.in_stock_before += part.in_stock_before;
  total.in_stock += part.in_stock;
}

std::string_view reason_for(const state::ItemRecord* before, const state::ItemRecord& after,
                            bool stale) {
  if (!before) return "new";
  if (before->quantity != after.quantity) return after.quantity == 0 ? "zeroed" : "changed";
  if (!after.error.empty()) return "rejected";
  if (stale) return "stale";
  return "unconfirmed";
}

PlannedChange planned_change(std::string_view sku, const state::ItemRecord* before,
                             const state::ItemRecord& after, bool stale) {
  PlannedChange change;
  change.sku = sku;
  change.quantity = after.quantity;
  if (before) change.previous_quantity = before->quantity;
  change.wanted = after.wanted;
  change.store_quantity = after.store_quantity;
  change.reason = reason_for(before, after, stale);
  return change;
}

}  // namespace

using detail::check_zeroing;
using detail::note_in_stock;
using detail::partly_applied;
using detail::pending_in;
using detail::window_peak;

ApplyFailed::ApplyFailed(const std::string& what, const DetectResult& committed)
    : std::runtime_error(what), committed_(std::make_shared<const DetectResult>(committed)) {}

std::uint64_t detail::pending_in(const state::ConnectionTxn& txn) {
  std::uint64_t pending = 0;
  auto cursor = txn.pending_cursor();
  for (bool more = cursor.seek(); more; more = cursor.next()) ++pending;
  return pending;
}

constexpr std::int64_t kDayMillis = 86'400'000;

// The most SKUs in stock on a day of the guard's window, 0 when none is remembered.
std::uint64_t detail::window_peak(const std::vector<state::StockMark>& marks, UnixMillis now) {
  const std::int64_t today = now / kDayMillis;
  std::uint64_t peak = 0;
  for (const auto& mark : marks)
    if (mark.day > today - kZeroingWindowDays) peak = std::max(peak, mark.in_stock);
  return peak;
}

// Remembers an accepted feed's in-stock count for today; forgets days out of the window, or
// every earlier day when the guard was overridden (the operator said this is the catalogue now).
void detail::note_in_stock(state::ConnectionRecord& record, UnixMillis now, std::uint64_t in_stock,
                           bool restart) {
  const std::int64_t today = now / kDayMillis;
  auto& marks = record.stock_marks;
  if (restart) marks.clear();
  std::erase_if(marks, [&](const state::StockMark& m) {
    return m.day <= today - kZeroingWindowDays || m.day > today;
  });
  if (!marks.empty() && marks.back().day == today)
    marks.back().in_stock = std::max(marks.back().in_stock, in_stock);
  else
    marks.push_back({today, in_stock});
}

// Throws FeedRefused when `preview` (the read-only pass) trips the zeroing guard.
void detail::check_zeroing(const DetectResult& preview, std::uint64_t peak,
                           const std::string& origin, std::string_view connection) {
  if (preview.known_before > 0 && static_cast<double>(preview.zeroed) >
                                      kMaxZeroedShare * static_cast<double>(preview.known_before))
    throw FeedRefused("feed " + origin + " would set " + std::to_string(preview.zeroed) + " of " +
                      std::to_string(preview.known_before) +
                      " known SKUs to 0 (more than half); refusing it (nothing changed)");
  peak = std::max(peak, preview.in_stock_before);
  const std::uint64_t lost = peak > preview.in_stock ? peak - preview.in_stock : 0;
  if (static_cast<double>(lost) > kMaxZeroedShare * static_cast<double>(peak))
    throw FeedRefused("feed " + origin + " would leave " + std::to_string(preview.in_stock) +
                      " SKUs in stock, fewer than half of the " + std::to_string(peak) +
                      " in stock at the most over the last " + std::to_string(kZeroingWindowDays) +
                      " days; refusing it (nothing changed; `beectl sync " +
                      std::string(connection) + " --allow-zeroing` accepts it once)");
}

// A write that failed after `committed` was: says how much stands.
ApplyFailed detail::partly_applied(const std::exception& e, const DetectResult& committed) {
  std::string what = e.what();
  if (committed.changed > 0)
    what += "; " + std::to_string(committed.changed) +
            " SKUs changed in the transactions committed before it, and stay applied";
  return ApplyFailed(what, committed);
}

Preview preview_feed(state::InventoryDb& db, std::string_view connection,
                     const connectors::Feed& feed, const Rules& rules, std::size_t limit) {
  Preview preview;
  db.read(connection, [&](state::ConnectionTxn& txn) {
    merge(txn, feed, rules, now_millis(), Position{}, false, UINT64_MAX, preview.counts,
          [&](std::string_view sku, const state::ItemRecord* before, const state::ItemRecord& after,
              bool stale) {
            if (!after.needs_push()) return true;
            ++preview.total;
            if (limit != 0 && preview.changes.size() >= limit) return true;
            preview.changes.push_back(planned_change(sku, before, after, stale));
            return true;
          });
  });
  return preview;
}

bool walk_preview(state::InventoryDb& db, std::string_view connection, const connectors::Feed& feed,
                  const Rules& rules, UnixMillis now, const std::optional<std::string>& after,
                  const std::function<bool(PlannedChange&&)>& on_change) {
  Position from;
  if (after) {
    from.last_sku = *after;
    from.started = true;
    from.row = static_cast<std::size_t>(
        std::upper_bound(feed.rows.begin(), feed.rows.end(), std::string_view(*after),
                         [](std::string_view sku, const connectors::FeedRow& row) {
                           return sku < std::string_view(row.sku);
                         }) -
        feed.rows.begin());
  }
  DetectResult counts;
  Position at;
  db.read(connection, [&](state::ConnectionTxn& txn) {
    at = merge(txn, feed, rules, now, from, false, UINT64_MAX, counts,
               [&](std::string_view sku, const state::ItemRecord* before,
                   const state::ItemRecord& item, bool stale) {
                 if (!item.needs_push()) return true;
                 return on_change(planned_change(sku, before, item, stale));
               });
  });
  return at.done;
}

DetectResult apply_feed(state::InventoryDb& db, std::string_view connection,
                        const connectors::Feed& feed, const Rules& rules, UnixMillis now,
                        bool allow_zeroing) {
  if (feed.rows.empty())
    throw FeedRefused("feed " + feed.origin + " has no usable rows; refusing it (nothing changed)");

  // Pass 1, read-only: what would this feed do? The guards decide before
  // anything is written, so a refused feed changes nothing.
  DetectResult preview;
  std::uint64_t peak = 0;
  db.read(connection, [&](state::ConnectionTxn& txn) {
    merge(txn, feed, rules, now, Position{}, false, UINT64_MAX, preview);
    peak = window_peak(txn.connection().stock_marks, now);
  });
  if (!allow_zeroing) check_zeroing(preview, peak, feed.origin, connection);

  // Pass 2: apply, a bounded number of writes per transaction. The last one also remembers
  // the in-stock count for the guard's window.
  DetectResult total;
  total.rows = feed.rows.size();
  Position at;
  try {
    while (!at.done) {
      DetectResult part;
      Position next;
      db.write(connection, [&](state::ConnectionTxn& txn) {
        part = DetectResult{};  // the body runs again if the map had to grow
        next = merge(txn, feed, rules, now, at, true, kWritesPerTransaction, part);
        if (!next.done) return;
        auto record = txn.connection();
        note_in_stock(record, now, preview.in_stock, allow_zeroing);
        txn.put_connection(record);
      });
      add_counts(total, part);
      at = std::move(next);
    }
  } catch (const std::exception& e) {
    throw partly_applied(e, total);
  }
  return total;
}

std::uint64_t mark_stale(state::InventoryDb& db, std::string_view connection, const Rules& rules,
                         UnixMillis now) {
  if (rules.repush_after <= 0) return 0;
  // Read first, write after: LMDB cursors do not keep their place across writes. Stale SKUs
  // are few (those a Full Sync has not refreshed for repush_after), so holding them is cheap.
  std::vector<std::string> stale;
  db.read(connection, [&](state::ConnectionTxn& txn) {
    const auto full = txn.connection().full_confirmation;
    auto cursor = txn.item_cursor();
    for (bool more = cursor.seek(); more; more = cursor.next())
      if (is_stale(cursor.key(), state::decode_item(cursor.value()), full, rules, now))
        stale.emplace_back(cursor.key());
  });
  for (std::size_t from = 0; from < stale.size(); from += kWritesPerTransaction) {
    const auto to = std::min<std::size_t>(stale.size(), from + kWritesPerTransaction);
    db.write(connection, [&](state::ConnectionTxn& txn) {
      const auto full = txn.connection().full_confirmation;
      for (std::size_t i = from; i < to; ++i) {
        auto item = txn.item(stale[i]);
        if (!item || !is_stale(stale[i], *item, full, rules, now)) continue;
        item->in_doubt = true;
        txn.put_item(stale[i], *item);
      }
    });
  }
  return stale.size();
}

DetectResult apply_delta(state::InventoryDb& db, std::string_view connection,
                         const connectors::Feed& feed, const Rules& rules, UnixMillis now) {
  DetectResult total;
  total.rows = feed.rows.size();
  std::size_t next = 0;
  try {
    do {
      const std::size_t end = std::min<std::size_t>(feed.rows.size(), next + kWritesPerTransaction);
      DetectResult part;
      db.write(connection, [&](state::ConnectionTxn& txn) {
        part = DetectResult{};  // the body runs again if the map had to grow
        for (std::size_t i = next; i < end; ++i) {
          const auto& row = feed.rows[i];
          state::ItemRecord item;
          bool dirty = true;
          if (auto stored = txn.item(row.sku)) {
            item = std::move(*stored);
            dirty = update_item(item, row.quantity, rules, now, part);
          } else {
            item.quantity = row.quantity;
            item.updated_at = now;
            item.wanted = wanted_quantity(item.quantity, rules);
            ++part.added;
            ++part.changed;
          }
          if (dirty) txn.put_item(row.sku, item);
        }
        if (end == feed.rows.size()) {
          // What the push phase will walk: the whole change index, this delta's and older.
          part.pending = pending_in(txn);
        }
      });
      total.added += part.added;
      total.changed += part.changed;
      total.zeroed += part.zeroed;
      total.pending += part.pending;
      next = end;
    } while (next < feed.rows.size());
  } catch (const std::exception& e) {
    throw partly_applied(e, total);
  }
  return total;
}

std::uint64_t count_pending(state::InventoryDb& db, std::string_view connection) {
  std::uint64_t pending = 0;
  db.read(connection, [&](state::ConnectionTxn& txn) { pending = pending_in(txn); });
  return pending;
}

std::optional<state::SourceReadRecord> last_source_read(state::InventoryDb& db,
                                                        std::string_view connection,
                                                        std::string_view memory,
                                                        std::string_view fingerprint) {
  if (memory.empty()) return std::nullopt;
  std::optional<state::SourceReadRecord> record;
  db.read(connection, [&](state::ConnectionTxn& txn) {
    auto stored = txn.source_read(memory);
    if (stored && stored->fingerprint == fingerprint) record = std::move(stored);
  });
  return record;
}

void remember_source_read(state::InventoryDb& db, std::string_view connection,
                          std::string_view memory, std::string_view fingerprint,
                          const connectors::Feed& feed, UnixMillis now) {
  if (memory.empty() || feed.unchanged || !feed.problems.empty() ||
      (feed.validator.empty() && feed.cursor.empty()))
    return;
  db.write(connection, [&](state::ConnectionTxn& txn) {
    txn.put_source_read(memory, {std::string(fingerprint), feed.validator, feed.cursor, now});
  });
}

}  // namespace pb::sync
