// How many SKUs of a connection are pending, settled or rejected: a walk over its items in LMDB
// (about 0.1 s per million SKUs), or over its change index only when the listed count is known.
// Blocking: run it on the pool, once per run end, never per scrape.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/types.hpp"
#include "state/inventory_db.hpp"

namespace pb::metrics {

struct SkuCounts {
  std::uint64_t pending = 0;   // listed, in the change index, no rejection: a push is owed
  std::uint64_t settled = 0;   // listed, the store holds what it should
  std::uint64_t rejected = 0;  // listed, the store refused the last push
};

// `listed`, when known (the run's feed digest knows it): only the change index is walked, as
// every pending or rejected SKU is in it and every other listed one is settled; the cost then
// follows what is pending, not the catalogue.
SkuCounts count_skus(state::InventoryDb& db, std::string_view connection,
                     std::optional<std::uint64_t> listed = std::nullopt);

// When the connection's last run ended, and its last `ok` run: from the run history.
struct LastRuns {
  UnixMillis finished = 0;
  UnixMillis ok = 0;
};
LastRuns last_runs(state::InventoryDb& db, std::string_view connection);

}  // namespace pb::metrics
