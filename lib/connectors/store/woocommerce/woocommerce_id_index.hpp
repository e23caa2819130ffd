// The WooCommerce connector's SKU -> products/variations map, kept in the
// StoreIdCache it was handed (LMDB in beed; ids encoded by woocommerce_ids.hpp).
// Blocking: call on the pool.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/store/store_id_cache.hpp"
#include "connectors/store/woocommerce/woocommerce_catalogue.hpp"
#include "connectors/store/woocommerce/woocommerce_ids.hpp"
#include "core/types.hpp"

namespace pb::connectors {

class WooIdIndex {
 public:
  explicit WooIdIndex(std::unique_ptr<StoreIdCache> cache);

  // A whole-catalogue walk is on record; when it was stored (0: never).
  bool complete();
  UnixMillis walked_at();

  // The targets of each SKU (same order); nullopt when unknown or unreadable; an empty list
  // when the SKU is marked as not in the store (put_not_in_store).
  std::vector<std::optional<std::vector<WooTarget>>> find(const std::vector<std::string>& skus);

  // Empties the map, marks included: each walk decides anew what the store has.
  void replace_all(const SkuTargets& targets, UnixMillis now);
  void put(const SkuTargets& targets);
  // Remembers SKUs that neither the walk nor a lookup found, so that each push does not ask
  // again; kept in the cache (it survives a restart) until the next walk replaces the map.
  void put_not_in_store(const std::vector<std::string>& skus);
  void erase(const std::vector<std::string>& skus);

  // A resumable walk (StoreIdCache's walk_*): a step merges `targets` with what the walk
  // stored before (a SKU on a product and a variation keeps both) and moves the checkpoint.
  std::optional<std::string> walk_checkpoint();
  void begin_walk(const std::string& checkpoint);
  void walk_step(const SkuTargets& targets, const std::string& checkpoint);
  void finish_walk(UnixMillis now);
  std::size_t size() { return cache_->size(); }

 private:
  std::unique_ptr<StoreIdCache> cache_;
};

}  // namespace pb::connectors
