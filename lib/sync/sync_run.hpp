// One sync run of one connection, start to end, in four phases: read the
// feed, detect changes, push batches with retries (recording each batch's
// confirmations), record the run. A coroutine on the event loop; every
// blocking step is offloaded to the worker pool.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "async/backoff.hpp"
#include "connectors/store/store.hpp"
#include "connectors/warehouse/warehouse.hpp"
#include "core/types.hpp"
#include "state/inventory_db.hpp"
#include "sync/rules.hpp"

namespace pb::sync {

struct FeedDigest;  // sync/change_detector_digest.hpp

// Where a run is; `beectl status` shows it as to_string gives it.
// `mapping`: the store is walking its catalogue (SKU -> its ids) before the first push can go.
enum class RunPhase { queued, reading, detecting, mapping, pushing, recording };
std::string_view to_string(RunPhase phase);

// What `beectl status` and `--wait` show of a run in progress.
struct RunProgress {
  std::uint64_t run_id = 0;
  SyncKind kind = SyncKind::smart;
  Trigger trigger = Trigger::manual;
  RunPhase phase = RunPhase::queued;
  std::uint64_t total = 0;  // SKUs to push, once known
  std::uint64_t pushed = 0;
  std::uint64_t rejected = 0;
  UnixMillis started_at = 0;
  // The store's catalogue walk (phase mapping): entries read so far, and how many
  // there are when the platform says (0: unknown). Kept after the walk, for the record.
  std::uint64_t mapped = 0;
  std::uint64_t mapping_total = 0;
};

// What a ConnectionRunner shares with its run in flight: the run's progress, a
// stop request, and the connection's memory of stale checks, which outlives
// each run.
//
// Threading rule: a RunControl lives on the event loop. The runner and the run
// read and write it only there, between awaits. A step offloaded to the pool
// never captures it: it gets copies of what it needs and returns what it
// computed, and the run assigns that after the offload returns.
class RunControl {
 public:
  // A new run starts: its progress, and no stop left over from the run before.
  void begin(const RunProgress& fresh) {
    progress = fresh;
    cancel_ = false;
    allow_zeroing = false;
    read_stop_ = std::make_shared<std::atomic<bool>>(false);
  }
  // Set: the run ends after the step in progress, as failed, with every
  // unconfirmed SKU still pending. A run stopped before its read reads nothing,
  // and a read in progress is told to stop (read_stop).
  void set_cancel(bool cancel) {
    cancel_ = cancel;
    if (cancel && read_stop_) read_stop_->store(true);
  }
  bool cancel_requested() const { return cancel_; }
  // The flag a warehouse read checks between chunks (ReadRequest::stop). The one exception
  // to the threading rule: an atomic, set here on the loop and read by the reader on the pool,
  // so that a stop ends a long or stalled read within a second rather than after it.
  std::shared_ptr<const std::atomic<bool>> read_stop() const { return read_stop_; }

  RunProgress progress;
  // When the catalogue was last checked for SKUs to push again
  // (repush_after); runs that read only a delta check it at most daily.
  // 0 (never): the next such run checks.
  UnixMillis last_stale_check = 0;
  // This run's feed may zero more than the guard allows (beectl sync --allow-zeroing); set
  // after begin() by whoever requested the run.
  bool allow_zeroing = false;
  // What the connection's last applied full feed said, so the next one touches LMDB only
  // where it differs (sync/change_detector_digest.hpp); null until a full merge builds it.
  std::shared_ptr<FeedDigest> feed_digest;

 private:
  bool cancel_ = false;
  std::shared_ptr<std::atomic<bool>> read_stop_;
};

struct RunEnvironment {
  state::InventoryDb& db;
  connectors::Warehouse& warehouse;
  connectors::Store& store;
  boost::asio::any_io_executor pool;
  // Transient store failures are retried inside the run, with exponential backoff and
  // jitter, at most retry.max_attempts times.
  async::BackoffPolicy retry;
};

// Runs `run` (already recorded as running) to its end and records the result.
// Never throws for a failure of the warehouse or the store: those end the run
// as `failed` with the reason in RunRecord::error. `control` must outlive the
// run.
boost::asio::awaitable<state::RunRecord> execute_run(RunEnvironment env, std::string connection,
                                                     Rules rules, state::RunRecord run,
                                                     RunControl& control);

}  // namespace pb::sync
