// Setting stocked_quantity at the location: in batches through POST
// /admin/inventory-items/location-levels/batch where the server has the route, one item at a
// time through the older per-item routes where it does not (found once, by the 404 of Express's
// "Cannot POST", and remembered).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "connectors/store/medusa/medusa_api.hpp"
#include "connectors/store/medusa/medusa_requests.hpp"
#include "connectors/store/store.hpp"

namespace pb::connectors::medusa {

// Updates per batch request. The server takes bodies up to 2 MB, ~18,000 levels at ~110 bytes
// each; but the batch is one all-or-nothing transaction, so its size is also what one bad item
// costs to isolate (about 2·log2(n) more requests) and what a lost answer sends again. 500 levels
// (~55 KB) keep each request under a second on Medusa 2.21 (bench/medusa_bench.py) and the
// isolation of one bad item to ~18 requests.
inline constexpr std::size_t kBatchLimit = 500;
// Batch requests in flight at once: Medusa's workflow for a batch is mostly database round
// trips, so a second request keeps the server busy while the first one waits on PostgreSQL.
inline constexpr std::size_t kBatchConcurrency = 2;
// Per-item requests in flight at once, when the server has no batch route.
inline constexpr std::size_t kItemConcurrency = 4;

enum class WriteRoute { unknown, batch, per_item };

struct WriteStats {
  std::size_t requests = 0;          // write requests answered
  std::size_t refused_requests = 0;  // of which refused (a batch split to isolate an item)
  std::size_t failed_requests = 0;   // no answer after retries
  std::string first_failure;
};

// One PushResult per write (same order): confirmed when the server's reply shows the quantity,
// rejected with Medusa's words when it refused the item, transient when its request got no
// answer. `route` is read and updated (unknown: try the batch route). Throws KeyRefused and
// StoreError from Api.
boost::asio::awaitable<std::vector<PushResult>> write_levels(Api& api,
                                                             std::span<const LevelWrite> writes,
                                                             std::string_view location_id,
                                                             WriteRoute& route, WriteStats& stats);

}  // namespace pb::connectors::medusa
