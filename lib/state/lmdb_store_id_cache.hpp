// The store connectors' SKU -> store id cache (connectors/store/store_id_cache.hpp)
// kept in LMDB, in the connection's store_ids and store_id_maps databases.
// Every call blocks on LMDB: connectors run them on the pool.
#pragma once

#include <string>

#include "connectors/store/store_id_cache.hpp"
#include "state/inventory_db.hpp"

namespace pb::state {

class LmdbStoreIdCache final : public connectors::StoreIdCache {
 public:
  LmdbStoreIdCache(InventoryDb& db, std::string connection, std::string fingerprint);

  bool complete() override;
  UnixMillis completed_at() override;
  std::vector<std::optional<std::string>> find(const std::vector<std::string>& skus) override;
  // Written in transactions of at most 50,000 entries, the completion mark last.
  void replace_all(std::vector<std::pair<std::string, std::string>> entries,
                   UnixMillis now) override;
  void put(const std::vector<std::pair<std::string, std::string>>& entries) override;
  void erase(const std::vector<std::string>& skus) override;
  std::size_t size() override;
  // A walk in progress is a store_id_maps value "<fingerprint>\nwalk\n<checkpoint>"; a
  // complete map's is "<fingerprint>\n<millis>" (as before walks were resumable).
  std::optional<std::string> walk_checkpoint() override;
  void begin_walk(const std::string& checkpoint) override;
  void walk_step(const std::vector<std::pair<std::string, std::string>>& entries,
                 const std::string& checkpoint) override;
  void finish_walk(UnixMillis now) override;

 private:
  InventoryDb& db_;
  std::string connection_;
  std::string fingerprint_;
};

// What beed hands a connection's store: opens an LmdbStoreIdCache per fingerprint.
connectors::StoreIdCacheFactory lmdb_store_id_caches(InventoryDb& db, std::string connection);

}  // namespace pb::state
