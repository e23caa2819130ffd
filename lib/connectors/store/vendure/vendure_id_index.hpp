// The Vendure connector's SKU -> ProductVariant ids map, kept in the StoreIdCache it was
// handed (LMDB in beed). Vendure does not make SKUs unique: a SKU may name several variants,
// stored as "12,57". Blocking: call on the pool.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/store/store_id_cache.hpp"
#include "core/types.hpp"

namespace pb::connectors::vendure {

using SkuVariants = std::map<std::string, std::vector<std::string>, std::less<>>;

// Collects (sku, id) pairs into SKU -> ids, each id once.
void add_variants(SkuVariants& into, const std::vector<std::pair<std::string, std::string>>& pairs);

// The map's entries for `variants` (SKU -> "12,57"), as a walk commits them.
std::vector<std::pair<std::string, std::string>> walk_entries(const SkuVariants& variants);

// The resumable walk's merge hook: a SKU whose variants span two pages keeps the ids an earlier
// page committed, followed by this page's (each id once). Blocking.
void merge_with_cached(StoreIdCache& cache,
                       std::vector<std::pair<std::string, std::string>>& entries);

class IdIndex {
 public:
  explicit IdIndex(std::unique_ptr<StoreIdCache> cache);

  bool complete();
  UnixMillis walked_at();  // 0: never

  // The ids of each SKU (same order); nullopt when unknown; an empty list when the SKU is
  // marked as not in the store (put_not_in_store).
  std::vector<std::optional<std::vector<std::string>>> find(const std::vector<std::string>& skus);

  // Empties the map, marks included: each walk decides anew what the store has.
  void replace_all(const SkuVariants& variants, UnixMillis now);
  void put(const SkuVariants& variants);
  // SKUs neither the walk nor a lookup found: rejected at once, with no request, until the
  // next walk replaces the map (the marks survive a restart).
  void put_not_in_store(const std::vector<std::string>& skus);
  void erase(const std::vector<std::string>& skus);

  // For run_resumable_walk, which writes the walk's steps itself.
  StoreIdCache& cache() { return *cache_; }

 private:
  std::unique_ptr<StoreIdCache> cache_;
};

}  // namespace pb::connectors::vendure
