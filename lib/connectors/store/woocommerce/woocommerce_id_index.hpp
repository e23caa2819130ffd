// The WooCommerce connector's SKU -> products/variations map: in LMDB through
// StoreIdCache (ids encoded by woocommerce_ids.hpp), or in memory when the
// connector has no database (tests, --check-config). Blocking: call on the pool.
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
  // `db` may be null: the map then lives as long as this object.
  WooIdIndex(state::InventoryDb* db, std::string connection, std::string fingerprint);

  // A whole-catalogue walk is on record; when it was stored (0: never).
  bool complete();
  UnixMillis walked_at();

  // The targets of each SKU (same order); nullopt when unknown or unreadable.
  std::vector<std::optional<std::vector<WooTarget>>> find(const std::vector<std::string>& skus);

  void replace_all(const SkuTargets& targets, UnixMillis now);
  void put(const SkuTargets& targets);
  void erase(const std::vector<std::string>& skus);

 private:
  std::unique_ptr<StoreIdCache> cache_;
  // Without a database:
  SkuTargets memory_;
  UnixMillis memory_walked_at_ = 0;
};

}  // namespace pb::connectors
