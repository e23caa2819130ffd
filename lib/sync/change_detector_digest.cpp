// The Smart Sync's fast path; see change_detector_digest.hpp.
#include "sync/change_detector_digest.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>

#include "sync/digest_sieve.hpp"

namespace pb::sync {
namespace {

// Lookups after which the preview gives its pages of the map back (lmdb::Env::release_pages).
constexpr std::size_t kReleaseAfterLookups = 1'000;

// The merge of differences(); `next(j)` is the first digest entry from j on to compare (the
// entries before it are known equal to rows the reader dropped). A new SKU's place in the
// digest (Difference::at, which patch_digest copies up to) is then found among those entries.
template <class Next>
std::vector<Difference> merge(const connectors::Feed& feed, const FeedDigest& digest, Next next) {
  std::vector<Difference> out;
  std::size_t i = 0;
  std::size_t passed = 0;  // every entry before it sorts before the rows still to come
  std::size_t j = next(0);
  while (i < feed.rows.size() || j < digest.size()) {
    const int order = i == feed.rows.size() ? 1
                      : j == digest.size()
                          ? -1
                          : std::string_view(feed.rows[i].sku).compare(digest.sku(j));
    if (order < 0) {
      const auto& row = feed.rows[i];
      passed = passed == j ? j : digest.lower_bound(row.sku, passed, j);
      out.push_back({row.sku, row.quantity, std::nullopt, passed});
      ++i;
      continue;
    }
    if (order > 0) {
      out.push_back({std::string(digest.sku(j)), std::nullopt, digest.quantities[j], j});
    } else {
      const auto& row = feed.rows[i++];
      if (row.quantity != digest.quantities[j])
        out.push_back({row.sku, row.quantity, digest.quantities[j], j});
    }
    passed = j + 1;
    j = next(passed);
  }
  return out;
}

}  // namespace

bool same_rules(const Rules& a, const Rules& b) {
  return a.buffer == b.buffer && a.buffer_percent == b.buffer_percent &&
         a.minimum_distributable == b.minimum_distributable && a.missing_skus == b.missing_skus &&
         a.repush_after == b.repush_after;
}

std::vector<Difference> differences(const connectors::Feed& feed, const FeedDigest& digest) {
  return merge(feed, digest, [](std::size_t j) { return j; });
}

std::vector<Difference> differences(const connectors::Feed& feed, const FeedDigest& digest,
                                    const DigestSieve& sieve) {
  return merge(feed, digest, [&](std::size_t j) { return sieve.next_unsieved(j); });
}

std::shared_ptr<FeedDigest> patch_digest(const FeedDigest& old,
                                         const std::vector<Difference>& diffs, const Rules& rules) {
  std::size_t bytes = old.skus.size();
  std::size_t count = old.size();
  for (const auto& d : diffs) {
    if (!d.was) {  // new
      bytes += d.sku.size();
      ++count;
    }
    if (!d.quantity) {  // gone
      bytes -= d.sku.size();
      --count;
    }
  }
  if (bytes > std::numeric_limits<std::uint32_t>::max()) return nullptr;
  auto out = std::make_shared<FeedDigest>();
  out->rules = rules;
  out->sieve = old.sieve;
  out->skus.reserve(bytes);
  out->ends.reserve(count);
  out->quantities.reserve(count);
  std::size_t next = 0;  // the first entry of `old` not yet passed
  // Entries [next, end) of `old` as they are: their SKUs' bytes in one piece, their ends shifted.
  const auto copy_run = [&](std::size_t end) {
    if (end <= next) return;
    const std::uint32_t from = next == 0 ? 0 : old.ends[next - 1];
    const auto shift = static_cast<std::int64_t>(out->skus.size()) - from;
    out->skus.append(old.skus, from, old.ends[end - 1] - from);
    for (std::size_t k = next; k < end; ++k)
      out->ends.push_back(static_cast<std::uint32_t>(old.ends[k] + shift));
    out->quantities.insert(out->quantities.end(), old.quantities.begin() + std::ptrdiff_t(next),
                           old.quantities.begin() + std::ptrdiff_t(end));
    next = end;
  };
  for (const auto& d : diffs) {
    copy_run(d.at);
    if (d.was) ++next;  // the digest's own entry for this SKU: replaced or gone
    if (!d.quantity) continue;
    out->skus += d.sku;
    out->ends.push_back(static_cast<std::uint32_t>(out->skus.size()));
    out->quantities.push_back(*d.quantity);
  }
  copy_run(old.size());
  return out;
}

bool requantify_in_place(FeedDigest& digest, const std::vector<Difference>& diffs) {
  for (const auto& d : diffs)
    if (!d.was || !d.quantity || d.at >= digest.size()) return false;
  for (const auto& d : diffs) digest.quantities[d.at] = *d.quantity;
  if (!diffs.empty()) digest.lines.reset();  // its changed lines would pass for the new rows
  return true;
}

namespace {

// Adds to `counts` what the full merge counts for one SKU it passes, the listed and in-stock
// figures as changes to the digest's totals. Returns whether the item must be written.
// Mirrors change_detector.cpp's merge, for a feed without held SKUs.
bool apply_difference(const Difference& d, std::optional<state::ItemRecord>& stored,
                      const Rules& rules, UnixMillis now, DetectResult& counts,
                      std::int64_t& listed_delta, std::int64_t& in_stock_delta) {
  if (!stored) {
    if (!d.quantity) return false;  // gone from both: nothing stored (cannot happen)
    state::ItemRecord item;
    item.quantity = *d.quantity;
    item.updated_at = now;
    item.wanted = wanted_quantity(item.quantity, rules);
    ++counts.added;
    ++counts.changed;
    ++listed_delta;
    if (item.quantity > 0) ++in_stock_delta;
    stored = std::move(item);
    return true;
  }
  auto& item = *stored;
  const bool was_listed = item.listed;
  const bool had_stock = item.quantity > 0;
  bool dirty = false;
  if (d.quantity) {
    dirty = detail::update_item(item, *d.quantity, rules, now, counts);
  } else if (!item.listed) {
    // already left alone
  } else if (rules.missing_skus == MissingSkus::zero) {
    dirty = detail::update_item(item, 0, rules, now, counts);
  } else {
    item.listed = false;
    ++counts.unlisted;
    dirty = true;
  }
  listed_delta += (item.listed ? 1 : 0) - (was_listed ? 1 : 0);
  in_stock_delta += (item.quantity > 0 ? 1 : 0) - (had_stock ? 1 : 0);
  return dirty;
}

std::uint64_t shifted(std::uint64_t total, std::int64_t delta) {
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(total) + delta);
}

// A SKU the digest holds is stored listed, with the digest's quantity and the wanted quantity
// the rules give (FeedDigest's promise): all apply_difference reads of it, without a lookup.
state::ItemRecord as_digested(Quantity quantity, const Rules& rules) {
  state::ItemRecord item;
  item.listed = true;
  item.quantity = quantity;
  item.wanted = wanted_quantity(quantity, rules);
  return item;
}

// The read-only pass that decides the guards, as apply_feed's first merge does. Looks up only
// the SKUs the digest does not hold (`lookups` counts them).
DetectResult preview(state::InventoryDb& db, std::string_view connection,
                     const std::vector<Difference>& diffs, const Rules& rules, const Totals& base,
                     UnixMillis now, std::uint64_t& peak, std::size_t& lookups) {
  DetectResult counts;
  std::int64_t listed_delta = 0;
  std::int64_t in_stock_delta = 0;
  db.read(connection, [&](state::ConnectionTxn& txn) {
    for (const auto& d : diffs) {
      auto stored = d.was ? std::optional(as_digested(*d.was, rules)) : txn.item(d.sku);
      if (!d.was) ++lookups;
      apply_difference(d, stored, rules, now, counts, listed_delta, in_stock_delta);
    }
    peak = detail::window_peak(txn.connection().stock_marks, now);
  });
  counts.known_before = base.listed;
  counts.in_stock_before = base.in_stock;
  counts.listed = shifted(base.listed, listed_delta);
  counts.in_stock = shifted(base.in_stock, in_stock_delta);
  return counts;
}

// Whether the connection's stock marks would stay as they are after a feed leaving `in_stock`.
bool stock_mark_holds(state::InventoryDb& db, std::string_view connection, std::uint64_t in_stock,
                      UnixMillis now) {
  bool holds = false;
  db.read(connection, [&](state::ConnectionTxn& txn) {
    const auto record = txn.connection();
    auto noted = record;
    detail::note_in_stock(noted, now, in_stock, false);
    holds = noted.stock_marks == record.stock_marks;
  });
  return holds;
}

}  // namespace

std::shared_ptr<const FeedDigest> digest_of(const connectors::Feed& feed, const Rules& rules,
                                            const DetectResult& counts) {
  auto digest = make_digest(feed, rules);
  if (!digest) return nullptr;
  digest->listed = counts.listed;
  digest->in_stock = counts.in_stock;
  return digest;
}

std::shared_ptr<FeedDigest> make_digest(const connectors::Feed& feed, const Rules& rules) {
  if (feed.unchanged || feed.delta || !feed.held_skus.empty()) return nullptr;
  std::size_t bytes = 0;
  for (const auto& row : feed.rows) bytes += row.sku.size();
  if (bytes > std::numeric_limits<std::uint32_t>::max()) return nullptr;
  auto digest = std::make_shared<FeedDigest>();
  digest->rules = rules;
  digest->skus.reserve(bytes);
  digest->ends.reserve(feed.rows.size());
  digest->quantities.reserve(feed.rows.size());
  for (const auto& row : feed.rows) {
    digest->skus += row.sku;
    digest->ends.push_back(static_cast<std::uint32_t>(digest->skus.size()));
    digest->quantities.push_back(row.quantity);
  }
  return digest;
}

bool digest_applies(const FeedDigest* digest, const connectors::Feed& feed, const Rules& rules) {
  return digest && !feed.unchanged && !feed.delta && feed.held_skus.empty() &&
         feed.rows.size() + feed.sieved > 0 && same_rules(digest->rules, rules);
}

DetectResult apply_feed_with_digest(state::InventoryDb& db, std::string_view connection,
                                    const connectors::Feed& feed, const Rules& rules,
                                    const FeedDigest& digest, UnixMillis now, bool allow_zeroing) {
  if (feed.sieved > 0) throw std::logic_error("a sieved feed's differences need its sieve");
  return apply_differences(db, connection, differences(feed, digest),
                           feed.rows.size() + feed.sieved, feed.origin, rules,
                           {digest.listed, digest.in_stock}, now, allow_zeroing);
}

DetectResult apply_differences(state::InventoryDb& db, std::string_view connection,
                               const std::vector<Difference>& diffs, std::uint64_t rows,
                               const std::string& origin, const Rules& rules, const Totals& base,
                               UnixMillis now, bool allow_zeroing) {
  std::uint64_t peak = 0;
  std::size_t lookups = 0;
  DetectResult whole = preview(db, connection, diffs, rules, base, now, peak, lookups);
  if (!allow_zeroing) detail::check_zeroing(whole, peak, origin, connection);
  whole.rows = rows;
  // Many lookups left as many pages of the map in beed's RSS; the write pass takes them again.
  if (lookups >= kReleaseAfterLookups) db.env().release_pages();
  if (diffs.empty() && !allow_zeroing && stock_mark_holds(db, connection, whole.in_stock, now)) {
    // Nothing to write (not even today's stock mark): no write transaction, no fsync.
    db.read(connection,
            [&](state::ConnectionTxn& txn) { whole.pending = detail::pending_in(txn); });
    return whole;
  }

  // Apply: the differing SKUs only, a bounded number of writes per transaction; the last one
  // also remembers the in-stock count for the guard's window, and counts the change index.
  DetectResult total;
  std::size_t next = 0;
  try {
    do {
      const std::size_t end =
          std::min<std::size_t>(diffs.size(), next + detail::kWritesPerTransaction);
      DetectResult part;
      db.write(connection, [&](state::ConnectionTxn& txn) {
        part = DetectResult{};  // the body runs again if the map had to grow
        std::int64_t listed_delta = 0;
        std::int64_t in_stock_delta = 0;
        for (std::size_t k = next; k < end; ++k) {
          auto stored = txn.item(diffs[k].sku);
          if (apply_difference(diffs[k], stored, rules, now, part, listed_delta, in_stock_delta))
            txn.put_item(diffs[k].sku, *stored);
        }
        if (end < diffs.size()) return;
        auto record = txn.connection();
        detail::note_in_stock(record, now, whole.in_stock, allow_zeroing);
        txn.put_connection(record);
        part.pending = detail::pending_in(txn);
      });
      total.added += part.added;
      total.changed += part.changed;
      total.zeroed += part.zeroed;
      total.unlisted += part.unlisted;
      total.pending += part.pending;
      next = end;
    } while (next < diffs.size());
  } catch (const std::exception& e) {
    throw detail::partly_applied(e, total);
  }
  if (diffs.size() >= kReleaseAfterLookups) db.env().release_pages();  // the push takes its own
  total.rows = rows;
  total.known_before = whole.known_before;
  total.in_stock_before = whole.in_stock_before;
  total.listed = whole.listed;
  total.in_stock = whole.in_stock;
  return total;
}

}  // namespace pb::sync
