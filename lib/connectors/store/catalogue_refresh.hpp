// When a store connector walks its catalogue (SKU -> the platform's ids) again, and what a
// walk that fails means for the run: one policy for every store that keeps such a map.
#pragma once

#include <chrono>
#include <string>

#include "core/types.hpp"

namespace pb::connectors {

// Whether a map completed at `walked_at` (0: none, or a walk not finished) still serves.
bool catalogue_is_fresh(UnixMillis walked_at, std::chrono::milliseconds refresh_after);

// A catalogue walk failed with `failure`. Without a map the run cannot push anything it could
// check, so it fails (StoreError, not retried in the run: the walk already retried). An old map
// beats none: most ids are still right, SKUs added since are looked up and ids gone since are
// refused and looked up again, so the run goes on with it and a warning says so.
void keep_old_map_or_fail(const std::string& store, const std::string& connection,
                          UnixMillis walked_at, const std::string& failure);

}  // namespace pb::connectors
