#include "sync/batch_planner.hpp"

#include <utility>

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

void mark_in_flight(state::InventoryDb& db, std::string_view connection, const std::string& first,
                    const std::string& last) {
  db.write(connection, [&](state::ConnectionTxn& txn) {
    auto record = txn.connection();
    record.in_flight_first = first;
    record.in_flight_last = last;
    txn.put_connection(record);
  });
}

std::uint64_t recover_in_flight(state::InventoryDb& db, std::string_view connection) {
  state::ConnectionRecord record;
  db.read(connection, [&](state::ConnectionTxn& txn) { record = txn.connection(); });
  if (!record.has_batch_in_flight()) return 0;

  // A batch can be as large as the store's cap (a million for the CSV
  // store): mark it in bounded transactions, then clear the mark.
  constexpr std::size_t kPerTransaction = 50'000;
  std::uint64_t marked = 0;
  std::string from = record.in_flight_first;
  bool first_chunk = true;
  for (bool more = true; more;) {
    std::vector<std::pair<std::string, state::ItemRecord>> doubtful;
    db.write(connection, [&](state::ConnectionTxn& txn) {
      doubtful.clear();
      more = false;
      {
        auto cursor = txn.item_cursor();
        bool ok = cursor.seek(from);
        if (ok && !first_chunk && cursor.key() == from) ok = cursor.next();
        for (; ok && cursor.key() <= record.in_flight_last; ok = cursor.next()) {
          if (doubtful.size() == kPerTransaction) {
            more = true;
            break;
          }
          auto item = state::decode_item(cursor.value());
          if (!item.listed || item.in_doubt) continue;
          item.in_doubt = true;
          doubtful.emplace_back(std::string(cursor.key()), item);
        }
      }  // the cursor is closed before writing (see change_detector.cpp)
      for (const auto& [sku, item] : doubtful) txn.put_item(sku, item);
      if (!more) {
        auto done = txn.connection();
        done.in_flight_first.clear();
        done.in_flight_last.clear();
        txn.put_connection(done);
      }
    });
    marked += doubtful.size();
    if (!doubtful.empty()) from = doubtful.back().first;
    first_chunk = false;
  }
  return marked;
}

RecordCounts record_verdicts(state::InventoryDb& db, std::string_view connection,
                             const std::vector<connectors::PushItem>& batch,
                             const std::vector<ItemVerdict>& verdicts, UnixMillis now,
                             std::optional<UnixMillis> full_sync_started) {
  RecordCounts counts;
  db.write(connection, [&](state::ConnectionTxn& txn) {
    counts = RecordCounts{};
    auto record = txn.connection();
    record.in_flight_first.clear();
    record.in_flight_last.clear();
    if (full_sync_started && !batch.empty()) {
      record.full_confirmation.partial_at = *full_sync_started;
      record.full_confirmation.partial_to = batch.back().sku;
    }
    txn.put_connection(record);
    for (std::size_t i = 0; i < batch.size() && i < verdicts.size(); ++i) {
      auto item = txn.item(batch[i].sku);
      if (!item) continue;  // erased meanwhile (connection removed)
      if (verdicts[i].verdict == Verdict::confirmed) {
        if (full_sync_started && item->store_quantity == batch[i].quantity && item->error.empty() &&
            !item->in_doubt) {
          ++counts.confirmed;  // the FullConfirmation above says it
          continue;
        }
        item->store_quantity = batch[i].quantity;
        item->confirmed_at = now;
        item->error.clear();
        item->in_doubt = false;
        ++counts.confirmed;
      } else {
        item->error = verdicts[i].message.empty() ? "rejected by the store" : verdicts[i].message;
        // A rejection is the store's answer: it did not apply. A failure is
        // the lack of one: it may have.
        item->in_doubt = verdicts[i].verdict == Verdict::failed;
        if (item->in_doubt)
          ++counts.failed;
        else
          ++counts.rejected;
      }
      txn.put_item(batch[i].sku, *item);
    }
  });
  return counts;
}

void complete_full_confirmation(state::InventoryDb& db, std::string_view connection,
                                UnixMillis started) {
  db.write(connection, [&](state::ConnectionTxn& txn) {
    auto record = txn.connection();
    auto& full = record.full_confirmation;
    if (full.partial_at != started || full.partial_to.empty()) return;
    full.whole_at = started;
    full.partial_at = 0;
    full.partial_to.clear();
    txn.put_connection(record);
  });
}

}  // namespace pb::sync
