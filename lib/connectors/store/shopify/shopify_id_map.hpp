// Where the Shopify connector keeps SKU -> inventory item ids: in the
// StoreIdCache it was handed (LMDB in beed). Every call may block: run it on the pool.
//
// A SKU shared by several variants maps to all of their inventory items: the
// cache value is their ids joined by single spaces (a gid never holds one),
// in the order the catalogue listed them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/store/store_id_cache.hpp"
#include "core/types.hpp"

namespace pb::connectors::shopify {

using ItemIds = std::vector<std::string>;

std::string encode_item_ids(const ItemIds& ids);
ItemIds decode_item_ids(std::string_view value);

class IdMap {
 public:
  explicit IdMap(std::unique_ptr<StoreIdCache> cache);

  bool complete();
  // When the last complete walk was stored; 0 if none.
  UnixMillis walked_at();
  // The ids of each SKU, in order; empty where none are known.
  std::vector<ItemIds> find(const std::vector<std::string>& skus);
  // Replaces everything with a complete walk's result.
  void replace_all(std::vector<std::pair<std::string, ItemIds>> entries);
  void put(const std::vector<std::pair<std::string, ItemIds>>& entries);
  void erase(const std::vector<std::string>& skus);

  // A resumable walk (StoreIdCache's walk_*): the checkpoint of the walk in
  // progress, its start, a step (the SKUs' ids merged with those already stored
  // by this walk, so that a SKU on several variants keeps them all), its end.
  std::optional<std::string> walk_checkpoint();
  void begin_walk(const std::string& checkpoint);
  void walk_step(const std::vector<std::pair<std::string, std::string>>& sku_items,
                 const std::string& checkpoint);
  void finish_walk();

 private:
  std::unique_ptr<StoreIdCache> cache_;
};

}  // namespace pb::connectors::shopify
