// The blocking LMDB halves of a run's push phase: choose the next batch to
// push, and record what the store said about it. One read transaction per
// batch chosen, one write transaction per batch recorded: a batch is the unit
// of confirmation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/store/store.hpp"
#include "core/types.hpp"
#include "state/inventory_db.hpp"

namespace pb::sync {

// Up to `max` items after SKU `after` (exclusive; empty = from the start):
// every listed SKU for a Full Sync, the change index for a Smart Sync.
std::vector<connectors::PushItem> next_batch(state::InventoryDb& db, std::string_view connection,
                                             SyncKind kind, const std::string& after,
                                             std::size_t max);

// Records [first, last] as the batch in flight, before it is pushed. One
// small write per batch: the price of knowing, after a kill, which SKUs the
// store may hold unrecorded quantities for.
void mark_in_flight(state::InventoryDb& db, std::string_view connection, const std::string& first,
                    const std::string& last);

// If a batch was left in flight (beed died between the push and its record,
// or recording failed), marks every listed SKU in its range as in doubt, so
// they stay in the change index until the store confirms them again, and
// clears the mark. Returns how many SKUs it marked. Runs before every run.
std::uint64_t recover_in_flight(state::InventoryDb& db, std::string_view connection);

// The final word on one pushed SKU after retries.
enum class Verdict { confirmed, rejected, failed };
struct ItemVerdict {
  Verdict verdict = Verdict::confirmed;
  std::string message;
};

struct RecordCounts {
  std::uint64_t confirmed = 0;
  std::uint64_t rejected = 0;  // the store refused them
  std::uint64_t failed = 0;    // no answer after every attempt: they may have applied
};

// In one transaction, which also clears the batch in flight: a confirmed SKU
// takes the pushed quantity as its store quantity (and leaves the change
// index if that is still what is wanted); a rejected one keeps its store
// quantity, records the message and stays in the change index; a failed one
// (transient until the retries ran out) does too, and is in doubt: the store
// may have applied it.
//
// A Full Sync's batch (`full_sync_started`: the run's start) leaves alone the record of a SKU
// the store confirmed at the quantity the record already says it holds (no error, not in
// doubt), and records instead, in the connection's FullConfirmation, that its batches reach
// this one's last SKU: its batches come in SKU order.
RecordCounts record_verdicts(state::InventoryDb& db, std::string_view connection,
                             const std::vector<connectors::PushItem>& batch,
                             const std::vector<ItemVerdict>& verdicts, UnixMillis now,
                             std::optional<UnixMillis> full_sync_started = std::nullopt);

// A Full Sync started at `started` went through every listed SKU: its confirmations now cover
// them all (FullConfirmation::whole_at). Nothing if none of its batches was recorded.
void complete_full_confirmation(state::InventoryDb& db, std::string_view connection,
                                UnixMillis started);

}  // namespace pb::sync
