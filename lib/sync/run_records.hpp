// The blocking LMDB writes that open and close a run: the run record and the
// connection's bookkeeping go together, one write transaction each, so a kill
// leaves either both or neither. The runner calls them off the event loop.
#pragma once

#include <string_view>

#include "core/types.hpp"
#include "state/inventory_db.hpp"

namespace pb::sync {

// Records `run` as running, reserves its id (next_run_id) and stores the next
// automatic run's due time. A restart that finds it still running marks it
// interrupted.
void record_run_start(state::InventoryDb& db, std::string_view connection,
                      const state::RunRecord& run, UnixMillis next_due_at);

// Records the ended `run` and what it means for the connection: a Full Sync
// that did not fail moves last_full_ok_at; a run `stopped` by a shutdown makes
// the next start run at once, as after a kill (its SKUs are still pending
// either way).
void record_run_end(state::InventoryDb& db, std::string_view connection,
                    const state::RunRecord& run, bool stopped);

}  // namespace pb::sync
