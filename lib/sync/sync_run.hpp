// One sync run of one connection, start to end: read the warehouse, detect
// changes, push in batches with retries, record each batch's confirmations,
// then the run's result. A coroutine on the event loop; every blocking step is
// offloaded to the worker pool.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "connectors/store/store.hpp"
#include "connectors/warehouse/warehouse.hpp"
#include "core/types.hpp"
#include "state/inventory_db.hpp"
#include "sync/rules.hpp"

namespace pb::sync {

// Transient store failures are retried inside the run, with exponential
// backoff and jitter, this many times at most.
struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
};

// What `beectl status` and `--wait` show of a run in progress. Written and
// read only on the event loop.
struct RunProgress {
  std::uint64_t run_id = 0;
  SyncKind kind = SyncKind::smart;
  Trigger trigger = Trigger::manual;
  std::string phase = "queued";  // queued|reading|detecting|pushing|recording
  std::uint64_t total = 0;       // SKUs to push, once known
  std::uint64_t pushed = 0;
  std::uint64_t rejected = 0;
  UnixMillis started_at = 0;
};

struct RunEnvironment {
  state::InventoryDb& db;
  connectors::Warehouse& warehouse;
  connectors::Store& store;
  boost::asio::any_io_executor pool;
  RetryPolicy retry;
  // When set (on the loop), the run ends after the step in progress, as
  // failed, with every unconfirmed SKU still pending. Null: never.
  const bool* cancel = nullptr;
  // When the catalogue was last checked for SKUs to push again (repush_after); runs that read
  // only a delta check it at most daily. Null: every such run checks.
  UnixMillis* last_stale_check = nullptr;
};

// Runs `run` (already recorded as running) to its end and records the result.
// Never throws for a failure of the warehouse or the store: those end the run
// as `failed` with the reason in RunRecord::error.
boost::asio::awaitable<state::RunRecord> execute_run(RunEnvironment env, std::string connection,
                                                     Rules rules, state::RunRecord run,
                                                     RunProgress& progress);

}  // namespace pb::sync
