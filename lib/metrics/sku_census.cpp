#include "metrics/sku_census.hpp"

namespace pb::metrics {

SkuCounts count_skus(state::InventoryDb& db, std::string_view connection,
                     std::optional<std::uint64_t> listed) {
  SkuCounts counts;
  if (listed) {
    db.read(connection, [&](state::ConnectionTxn& txn) {
      auto cursor = txn.pending_cursor();
      for (bool more = cursor.seek(); more; more = cursor.next()) {
        const auto item = txn.item(cursor.key());
        if (!item || !item->listed) continue;
        if (!item->error.empty())
          ++counts.rejected;
        else
          ++counts.pending;
      }
    });
    const auto owed = counts.pending + counts.rejected;
    counts.settled = *listed > owed ? *listed - owed : 0;
    return counts;
  }
  db.read(connection, [&](state::ConnectionTxn& txn) {
    auto cursor = txn.item_cursor();
    for (bool more = cursor.seek(); more; more = cursor.next()) {
      const auto item = state::decode_item(cursor.value());
      if (!item.listed) continue;
      if (!item.error.empty())
        ++counts.rejected;
      else if (item.needs_push())
        ++counts.pending;
      else
        ++counts.settled;
    }
  });
  return counts;
}

LastRuns last_runs(state::InventoryDb& db, std::string_view connection) {
  LastRuns last;
  db.read(connection, [&](state::ConnectionTxn& txn) {
    for (const auto& run : txn.runs(state::kRunsKept)) {  // newest first
      if (run.result == RunResult::running) continue;
      if (last.finished == 0) last.finished = run.finished_at;
      if (run.result == RunResult::ok) {
        last.ok = run.finished_at;
        break;
      }
    }
  });
  return last;
}

}  // namespace pb::metrics
