// Reading Medusa's inventory items into SKU -> item: the whole catalogue (a walk, into memory or
// a step at a time for the resumable first walk), or a few SKUs (a look-up, for SKUs the map
// does not know).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "connectors/store/medusa/medusa_api.hpp"
#include "connectors/store/medusa/medusa_requests.hpp"
#include "connectors/store/resumable_walk.hpp"

namespace pb::connectors::medusa {

struct WalkStats {
  std::size_t items = 0;  // inventory items seen, with a SKU or not
  std::size_t requests = 0;
};

// Every inventory item with a SKU, 1,000 a page, `concurrency` pages in flight after the first
// (which gives the count). Throws RequestError (KeyRefused, StoreError) as Api does.
boost::asio::awaitable<SkuItems> walk_catalogue(Api& api, std::string_view location_id,
                                                std::size_t concurrency, WalkStats& stats);

// The resumable first walk's reader (run_resumable_walk, positions are item offsets): the run's
// first step reads one page, which gives the count; each later step reads up to `concurrency`
// pages at once, as walk_catalogue does, and is committed as one. Entries are encoded as the map
// keeps them (encode_item). Medusa keeps an inventory item's SKU unique (a unique index on
// inventory_item.sku), so a SKU never spans two pages and no merge is needed.
struct WalkReader {
  Api& api;
  std::string location_id;
  std::size_t concurrency = 1;
  std::size_t count = 0;                  // the server's count, once a page of this run said it
  WalkStats stats;                        // this run's
  std::optional<std::size_t> started_at;  // the offset this run began at
};
inline constexpr std::string_view kWalkKind = "medusa-items";
boost::asio::awaitable<WalkPage> read_walk_step(WalkReader& reader, std::size_t offset);

// The items of `skus` that the store has (SKUs it lacks are absent), in as few requests as the
// server's query limits allow. Throws as walk_catalogue does.
boost::asio::awaitable<SkuItems> look_up_skus(Api& api, std::span<const std::string> skus,
                                              std::string_view location_id);

}  // namespace pb::connectors::medusa
