// How many SKUs of a connection are pending, settled or rejected: a walk over its items in LMDB.
// Blocking and proportional to the catalogue (about 0.1 s per million SKUs): run it on the pool,
// once per run end, never per scrape.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/types.hpp"
#include "state/inventory_db.hpp"

namespace pb::metrics {

struct SkuCounts {
  std::uint64_t pending = 0;   // listed, in the change index, no rejection: a push is owed
  std::uint64_t settled = 0;   // listed, the store holds what it should
  std::uint64_t rejected = 0;  // listed, the store refused the last push
};

SkuCounts count_skus(state::InventoryDb& db, std::string_view connection);

// When the connection's last run ended, and its last `ok` run: from the run history.
struct LastRuns {
  UnixMillis finished = 0;
  UnixMillis ok = 0;
};
LastRuns last_runs(state::InventoryDb& db, std::string_view connection);

}  // namespace pb::metrics
