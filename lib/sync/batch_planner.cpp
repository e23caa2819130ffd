#include "sync/batch_planner.hpp"

namespace pb::sync {

std::vector<connectors::PushItem> next_batch(state::InventoryDb& db, std::string_view connection,
                                             SyncKind kind, const std::string& after,
                                             std::size_t max) {
  std::vector<connectors::PushItem> batch;
  db.read(connection, [&](state::ConnectionTxn& txn) {
    auto cursor = kind == SyncKind::full ? txn.item_cursor() : txn.pending_cursor();
    bool ok = cursor.seek(after);
    if (ok && !after.empty() && cursor.key() == after) ok = cursor.next();
    for (; ok && batch.size() < max; ok = cursor.next()) {
      if (kind == SyncKind::full) {
        const auto item = state::decode_item(cursor.value());
        if (item.listed) batch.push_back({std::string(cursor.key()), item.wanted});
      } else {
        const auto item = txn.item(cursor.key());
        if (item) batch.push_back({std::string(cursor.key()), item->wanted});
      }
    }
  });
  return batch;
}

RecordCounts record_verdicts(state::InventoryDb& db, std::string_view connection,
                             const std::vector<connectors::PushItem>& batch,
                             const std::vector<ItemVerdict>& verdicts, UnixMillis now) {
  RecordCounts counts;
  db.write(connection, [&](state::ConnectionTxn& txn) {
    counts = RecordCounts{};
    for (std::size_t i = 0; i < batch.size() && i < verdicts.size(); ++i) {
      auto item = txn.item(batch[i].sku);
      if (!item) continue;  // erased meanwhile (connection removed)
      if (verdicts[i].verdict == Verdict::confirmed) {
        item->store_quantity = batch[i].quantity;
        item->confirmed_at = now;
        item->error.clear();
        ++counts.confirmed;
      } else {
        item->error = verdicts[i].message.empty() ? "rejected by the store" : verdicts[i].message;
        ++counts.rejected;
      }
      txn.put_item(batch[i].sku, *item);
    }
  });
  return counts;
}

}  // namespace pb::sync
