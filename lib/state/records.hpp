// The records PackageBee keeps in LMDB and their byte encodings. Each encoding
// starts with a version byte so a later schema can read older records.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.hpp"

namespace pb::state {

// One SKU of one connection.
struct ItemRecord {
  Quantity quantity = 0;      // the warehouse's figure
  UnixMillis updated_at = 0;  // when `quantity` last changed (the product's "Last Update")
  Quantity wanted = 0;        // what the store should hold: `quantity` after the rules
  bool listed = true;         // in the latest snapshot (or held there by a bad row)
  std::optional<Quantity> store_quantity;  // last quantity the store confirmed
  // When the store last confirmed `store_quantity` for this SKU alone; a Full Sync that found
  // the store already holding it says so in the connection's FullConfirmation instead:
  // confirmed_at() below reads both.
  UnixMillis confirmed_at = 0;
  std::string error;  // the store's last rejection or failure for this SKU; empty if none
  // A push of this SKU may have reached the store without its answer being
  // recorded (beed died, or gave up): `store_quantity` may be wrong.
  bool in_doubt = false;

  // The store may not hold `wanted`, refused it last time, or may hold
  // something else than we know: the SKU belongs in the change index.
  bool needs_push() const {
    return listed && (!store_quantity || *store_quantity != wanted || !error.empty() || in_doubt);
  }
};

// The most SKUs in stock (quantity > 0) after an accepted feed on one day: the zeroing guard
// weighs a feed against the largest of these over a window (sync/change_detector.hpp).
struct StockMark {
  std::int64_t day = 0;  // UTC days since the epoch
  std::uint64_t in_stock = 0;
  bool operator==(const StockMark&) const = default;
};

// What the Full Syncs confirmed without rewriting each SKU's record. A Full Sync pushes every
// listed SKU; for one whose record already says the store holds the pushed quantity (no error, not
// in doubt), the store's confirmation changes nothing but the time, and rewriting a million
// records for that cost a million-SKU Full Sync ~120 MB of writes and left LMDB's file
// fragmented for the Smart Syncs after it. The time is the Full Sync's start: never later than
// the confirmation itself, so repush_after counts from no later than it should.
struct FullConfirmation {
  UnixMillis whole_at = 0;    // the last Full Sync that went through every listed SKU
  UnixMillis partial_at = 0;  // the Full Sync under way (or cut short): its batches recorded
  std::string partial_to;     // so far reach this SKU (empty: none)
  bool operator==(const FullConfirmation&) const = default;
};

// When the store last confirmed `item`'s store quantity. A Full Sync's confirmation counts only
// for a SKU whose quantity the store is known to hold (listed, no error, not in doubt): one
// unlisted while it ran was not pushed, and comes back in doubt (sync/change_detector.cpp).
UnixMillis confirmed_at(std::string_view sku, const ItemRecord& item, const FullConfirmation& full);

// Per-connection bookkeeping.
struct ConnectionRecord {
  std::uint64_t next_run_id = 1;
  UnixMillis next_due_at = 0;      // next automatic run; 0 = not scheduled yet
  UnixMillis last_full_ok_at = 0;  // last Full Sync that finished ok; 0 = never
  bool paused = false;             // automatic runs paused (beectl pause)
  // The SKU range of the batch being pushed, written before the call and
  // cleared in the transaction that records the store's answer. Left set, it
  // means a push may have applied unrecorded; see sync/batch_planner.hpp.
  std::string in_flight_first;
  std::string in_flight_last;
  bool has_batch_in_flight() const { return !in_flight_first.empty(); }
  // Oldest first, one per day with an accepted full feed, the last few days only. Empty in a
  // record written before version 3.
  std::vector<StockMark> stock_marks;
  FullConfirmation full_confirmation;  // none in a record written before version 4
};

struct RunRecord {
  std::uint64_t id = 0;
  SyncKind kind = SyncKind::smart;
  Trigger trigger = Trigger::manual;
  UnixMillis started_at = 0;
  UnixMillis finished_at = 0;  // 0 while running
  RunResult result = RunResult::running;
  std::uint64_t read = 0;     // feed rows read
  std::uint64_t changed = 0;  // SKUs whose warehouse quantity changed
  std::uint64_t pushed = 0;   // SKUs the store confirmed
  // SKUs the store refused. Those that got no answer after every retry are not counted: they
  // stay pending, in doubt, and a partial run's `error` says how many there were.
  std::uint64_t rejected = 0;
  std::uint64_t bad_rows = 0;  // feed rows that could not be used
  std::string error;           // why the run failed, or a note for partial runs
};

// What a warehouse said with the last read whose rows are committed: handed back on the next
// read so an unchanged feed costs one request (validator) and an incremental source sends only
// what changed (cursor). Valid only while `fingerprint` matches the source's configuration.
struct SourceReadRecord {
  std::string fingerprint;
  std::string validator;
  std::string cursor;
  UnixMillis read_at = 0;
};

std::string encode(const ItemRecord& r);
std::string encode(const SourceReadRecord& r);
std::string encode(const ConnectionRecord& r);
std::string encode(const RunRecord& r);

// A stored record that does not decode: the state is corrupt (or from a newer beed). Typed so
// that a run fails with it as its error and beed keeps serving, rather than crash.
class RecordError : public std::runtime_error {
 public:
  explicit RecordError(const std::string& what);
};

// Throw RecordError on a record that does not decode (corruption or a newer
// schema). They never read past `bytes`.
ItemRecord decode_item(std::string_view bytes);
ConnectionRecord decode_connection(std::string_view bytes);
RunRecord decode_run(std::string_view bytes);
SourceReadRecord decode_source_read(std::string_view bytes);

}  // namespace pb::state
