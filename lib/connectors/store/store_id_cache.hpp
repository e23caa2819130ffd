// A store connector's SKU -> store id mapping, kept in LMDB so that a restart
// does not page the whole catalogue again. The ids are opaque strings the
// connector encodes (several ids for a SKU shared by several variants, a
// parent and a variation id, ...). Every call blocks on LMDB: run it on the pool.
//
// The mapping is "complete" once a walk of the whole catalogue was stored under
// the same fingerprint (store type, shop, location): a SKU absent from a
// complete map is not in the store, at least as of that walk. A different
// fingerprint (the connection now points elsewhere) empties the cache.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/types.hpp"

namespace pb::state {
class InventoryDb;
}

namespace pb::connectors {

class StoreIdCache {
 public:
  StoreIdCache(state::InventoryDb& db, std::string connection, std::string fingerprint);

  // True when a complete walk under this fingerprint is stored. With another
  // fingerprint on record, empties the cache first (and returns false).
  bool complete();
  // When the last complete walk was stored; 0 if none.
  UnixMillis completed_at();

  // The id for each SKU (same order), nullopt where the cache has none.
  std::vector<std::optional<std::string>> find(const std::vector<std::string>& skus);

  // Replaces the whole mapping with `entries` (any order; a later duplicate SKU
  // replaces an earlier one) and marks it complete at `now`. Written in
  // transactions of at most 50,000 entries; the mark comes last, so a kill
  // midway leaves an incomplete map that the next run walks again.
  void replace_all(std::vector<std::pair<std::string, std::string>> entries, UnixMillis now);

  // Point updates: a SKU the walk missed (found by a targeted lookup), or one
  // whose id the store now calls invalid (erase).
  void put(const std::vector<std::pair<std::string, std::string>>& entries);
  void erase(const std::vector<std::string>& skus);

  std::size_t size();

 private:
  state::InventoryDb& db_;
  std::string connection_;
  std::string fingerprint_;
};

}  // namespace pb::connectors
