// Change detection: merges a warehouse snapshot into the stored items of one
// connection in a single LMDB write transaction. Whatever changed lands in the
// change index in that same transaction, so a kill at any instant leaves the
// index true. It also remembers what each source said with its last committed
// read. Blocking; the engine runs it off the event loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/warehouse/feed.hpp"
#include "core/types.hpp"
#include "state/inventory_db.hpp"
#include "sync/rules.hpp"

namespace pb::sync {

// The snapshot fails a guard (empty, or would zero too much of the catalogue).
// Nothing was written.
class FeedRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DetectResult;

// Writing the feed failed after some of its transactions were committed (a full disk, say):
// those changes stand, and `committed` counts them, so the run can record what it applied.
class ApplyFailed : public std::runtime_error {
 public:
  ApplyFailed(const std::string& what, const DetectResult& committed);
  const DetectResult& committed() const { return *committed_; }

 private:
  std::shared_ptr<const DetectResult> committed_;  // shared: exceptions are copied
};

struct DetectResult {
  std::uint64_t rows = 0;             // usable rows in the feed
  std::uint64_t known_before = 0;     // listed SKUs stored before this feed
  std::uint64_t added = 0;            // SKUs seen for the first time
  std::uint64_t changed = 0;          // SKUs whose warehouse quantity changed (added included)
  std::uint64_t zeroed = 0;           // listed SKUs with stock that this feed brings to 0
  std::uint64_t unlisted = 0;         // SKUs gone from the feed and left alone (missing_skus: keep)
  std::uint64_t listed = 0;           // SKUs a Full Sync pushes after this feed
  std::uint64_t pending = 0;          // SKUs in the change index after this feed
  std::uint64_t stale = 0;            // SKUs confirmed longer ago than repush_after, to push again
  std::uint64_t in_stock_before = 0;  // stored SKUs (listed or not) with quantity > 0 before
  std::uint64_t in_stock = 0;         // the same after this feed
};

// The zeroing guard. A full feed is refused, and nothing written, when it would bring more than
// kMaxZeroedShare of the known (listed) SKUs to 0 at once, or when it would leave fewer than
// (1 - kMaxZeroedShare) of the most SKUs in stock (quantity > 0) over the last
// kZeroingWindowDays: the largest in-stock count of the accepted feeds of each of those days,
// kept in the connection record (ConnectionRecord::stock_marks), and the count before this
// feed. So a catalogue zeroed a little at a time (50 %, then 50.1 %, then 60 %) is stopped at
// the run that crosses half, not only when one run zeroes half. `allow_zeroing` (beectl sync
// or full-sync --allow-zeroing) lets one feed through and restarts the window from it.
inline constexpr double kMaxZeroedShare = 0.5;
inline constexpr std::int64_t kZeroingWindowDays = 7;

// One SKU a Smart Sync would push after `feed`, and why.
struct PlannedChange {
  std::string sku;
  Quantity quantity = 0;                      // warehouse quantity after the feed
  std::optional<Quantity> previous_quantity;  // stored before; none for a new SKU
  Quantity wanted = 0;                        // what would be pushed
  std::optional<Quantity> store_quantity;     // what the store last confirmed
  std::string_view reason;                    // new|changed|zeroed|rejected|stale|unconfirmed
};

struct Preview {
  DetectResult counts;
  std::uint64_t total = 0;             // SKUs that would be pushed
  std::vector<PlannedChange> changes;  // the first `limit` of them, in SKU order
};

// A dry run of apply_feed followed by a Smart Sync: reads only. `limit` 0 =
// all. Does not apply the guards (the caller can see counts.zeroed).
Preview preview_feed(state::InventoryDb& db, std::string_view connection,
                     const connectors::Feed& feed, const Rules& rules, std::size_t limit);

// preview_feed in pieces, for a paged listing: walks the SKUs after `after` (from the first
// when none) in SKU order, with `now` as the clock, and hands each change to `on_change` until
// it returns false. Returns whether the walk reached the end. One read transaction.
bool walk_preview(state::InventoryDb& db, std::string_view connection, const connectors::Feed& feed,
                  const Rules& rules, UnixMillis now, const std::optional<std::string>& after,
                  const std::function<bool(PlannedChange&&)>& on_change);

// Throws FeedRefused (nothing written) or, when a write fails part way, ApplyFailed.
DetectResult apply_feed(state::InventoryDb& db, std::string_view connection,
                        const connectors::Feed& feed, const Rules& rules, UnixMillis now,
                        bool allow_zeroing = false);

// apply_feed for an incremental feed (Feed::delta): only its rows are looked up and updated, so
// the cost follows the change, not the catalogue; a SKU without a row keeps its state, and
// held SKUs too. No guard applies: an empty delta means nothing changed, and a delta cannot
// be weighed against a catalogue it does not list. counts.known_before, listed and unlisted
// are not computed, nor is the zeroing guard's window. Throws ApplyFailed when a write fails
// part way.
DetectResult apply_delta(state::InventoryDb& db, std::string_view connection,
                         const connectors::Feed& feed, const Rules& rules, UnixMillis now);

// Marks every listed SKU the store confirmed longer ago than rules.repush_after as in doubt, so
// the next push sends it again. apply_feed does this on its way; a run that applies only a delta
// (or nothing: an unchanged feed) calls this instead, now and then, as it walks the catalogue.
// Returns how many it marked.
std::uint64_t mark_stale(state::InventoryDb& db, std::string_view connection, const Rules& rules,
                         UnixMillis now);

// How many SKUs are in the change index: what a Smart Sync's push phase walks. One read
// transaction.
std::uint64_t count_pending(state::InventoryDb& db, std::string_view connection);

// Source-read bookkeeping. What a warehouse said with its last read whose rows are committed,
// kept under its Warehouse::remembered_as name: handed back on the next read, an unchanged feed
// costs one request and an incremental one sends only the changes.

// The read remembered as `memory`, if it was made with the same configuration (`fingerprint`);
// none otherwise, or when `memory` is empty. One read transaction.
std::optional<state::SourceReadRecord> last_source_read(state::InventoryDb& db,
                                                        std::string_view connection,
                                                        std::string_view memory,
                                                        std::string_view fingerprint);

// Remembers `feed`'s validator and cursor as `memory`. Call it only once the rows the feed stands
// for are committed (apply_feed, apply_delta): a kill before this leaves the older memory, and
// the next read repeats these rows (harmless). Does nothing for an empty `memory`, an unchanged
// feed, a feed with neither validator nor cursor, or one with bad rows: the next read must cover
// those again, so a fixed row is not skipped by an incremental read or an unchanged validator.
// One write transaction.
void remember_source_read(state::InventoryDb& db, std::string_view connection,
                          std::string_view memory, std::string_view fingerprint,
                          const connectors::Feed& feed, UnixMillis now);

}  // namespace pb::sync
