#include "sync/run_records.hpp"

#include <algorithm>

namespace pb::sync {

void record_run_start(state::InventoryDb& db, std::string_view connection,
                      const state::RunRecord& run, UnixMillis next_due_at) {
  db.write(connection, [&](state::ConnectionTxn& txn) {
    auto record = txn.connection();
    record.next_run_id = std::max(record.next_run_id, run.id + 1);
    record.next_due_at = next_due_at;
    txn.put_connection(record);
    txn.put_run(run);
  });
}

void record_run_end(state::InventoryDb& db, std::string_view connection,
                    const state::RunRecord& run, bool stopped) {
  db.write(connection, [&](state::ConnectionTxn& txn) {
    txn.put_run(run);
    auto record = txn.connection();
    if (run.kind == SyncKind::full && run.result != RunResult::failed)
      record.last_full_ok_at = run.finished_at;
    if (stopped) record.next_due_at = 0;
    txn.put_connection(record);
  });
}

}  // namespace pb::sync
