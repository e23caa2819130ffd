// The inventory schema on top of LMDB: per connection and SKU the item
// record, a change index of the SKUs that need a push, the bounded run
// history, and the connection's bookkeeping. It knows nothing of stores or
// feeds; lib/sync decides what to write.
//
// Named databases (keys are "CONNECTION\0..."):
//   meta         "schema_version" -> decimal text
//   items        CONNECTION\0SKU -> ItemRecord
//   pending      CONNECTION\0SKU -> "" for each item whose needs_push() holds;
//                maintained in the same transaction as the item, so it is
//                true after a kill at any instant
//   runs         CONNECTION\0<run id, 8 bytes big-endian> -> RunRecord
//   connections  CONNECTION -> ConnectionRecord
//   store_ids    CONNECTION\0SKU -> the store's id(s) for that SKU, opaque to
//                all but the store connector that wrote it (a cache)
//   store_id_maps CONNECTION -> "<fingerprint>\n<completed-at millis>" once the
//                connector has paged the whole catalogue into store_ids
//   source_reads CONNECTION\0WAREHOUSE -> SourceReadRecord, written after the rows of
//                that read are committed
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "state/lmdb.hpp"
#include "state/records.hpp"

namespace pb::state {

inline constexpr int kSchemaVersion = 1;
inline constexpr std::size_t kRunsKept = 1000;

struct Databases {
  MDB_dbi meta = 0, items = 0, pending = 0, runs = 0, connections = 0, store_ids = 0,
          store_id_maps = 0, source_reads = 0;
};

// The names of the named databases above, in the order InventoryDb opens them.
std::vector<std::string_view> database_names();

// One connection's view inside one LMDB transaction.
class ConnectionTxn {
 public:
  ConnectionTxn(lmdb::Txn& txn, const Databases& dbs, std::string_view connection);

  std::optional<ItemRecord> item(std::string_view sku) const;
  // Writes the item and keeps the change index in step with it.
  void put_item(std::string_view sku, const ItemRecord& item);

  // Iterate items or the change index in SKU order; key() is the SKU.
  lmdb::Cursor item_cursor() const;
  lmdb::Cursor pending_cursor() const;
  bool is_pending(std::string_view sku) const;

  ConnectionRecord connection() const;
  void put_connection(const ConnectionRecord& record);

  std::optional<RunRecord> run(std::uint64_t id) const;
  std::optional<RunRecord> last_run() const;
  std::vector<RunRecord> runs(std::size_t limit) const;  // newest first
  // Writes the run and drops the oldest beyond kRunsKept.
  void put_run(const RunRecord& run);

  // The store connector's SKU -> id cache (see StoreIdCache in lib/connectors).
  std::optional<std::string> store_id(std::string_view sku) const;
  void put_store_id(std::string_view sku, std::string_view id);
  void erase_store_id(std::string_view sku);
  lmdb::Cursor store_id_cursor() const;
  // "<fingerprint>\n<millis>" or nullopt; written after a complete catalogue walk.
  std::optional<std::string> store_id_map_marker() const;
  void put_store_id_map_marker(std::string_view marker);
  void erase_store_id_map_marker();

  // What the named warehouse said with its last committed read.
  std::optional<SourceReadRecord> source_read(std::string_view warehouse) const;
  void put_source_read(std::string_view warehouse, const SourceReadRecord& record);
  void erase_source_read(std::string_view warehouse);

  lmdb::Txn& txn() { return txn_; }

 private:
  std::string key(std::string_view sku) const;
  std::string_view connection_name() const { return {prefix_.data(), prefix_.size() - 1}; }

  lmdb::Txn& txn_;
  const Databases& dbs_;
  std::string prefix_;  // CONNECTION\0
};

class InventoryDb {
 public:
  // Opens or creates the environment under `state_dir` and checks (or writes)
  // the schema version. Throws lmdb::Error or std::runtime_error.
  explicit InventoryDb(const std::filesystem::path& state_dir,
                       std::size_t initial_map_size = std::size_t{1} << 30);

  // A write transaction for one connection, committed when `body` returns.
  // May run `body` more than once (the map grew); see lmdb::Env::write.
  void write(std::string_view connection, const std::function<void(ConnectionTxn&)>& body);
  void read(std::string_view connection, const std::function<void(ConnectionTxn&)>& body);

  // Names of every connection with a record, sorted.
  std::vector<std::string> connection_names();

  // Marks runs left `running` by a stopped or killed process as failed.
  // Returns the connections that had one.
  std::vector<std::string> fail_interrupted_runs(UnixMillis now);

  lmdb::Env& env() { return env_; }
  std::size_t map_size() const { return env_.map_size(); }

 private:
  lmdb::Env env_;
  Databases dbs_;
};

}  // namespace pb::state
