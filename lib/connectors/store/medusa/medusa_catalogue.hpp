// Reading Medusa's inventory items into SKU -> item: the whole catalogue (a walk), or a few SKUs
// (a look-up, for SKUs the map does not know).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "connectors/store/medusa/medusa_api.hpp"
#include "connectors/store/medusa/medusa_requests.hpp"

namespace pb::connectors::medusa {

struct WalkStats {
  std::size_t items = 0;  // inventory items seen, with a SKU or not
  std::size_t requests = 0;
};

// Every inventory item with a SKU, 1,000 a page, `concurrency` pages in flight after the first
// (which gives the count). Throws RequestError (KeyRefused, StoreError) as Api does.
boost::asio::awaitable<SkuItems> walk_catalogue(Api& api, std::string_view location_id,
                                                std::size_t concurrency, WalkStats& stats);

// The items of `skus` that the store has (SKUs it lacks are absent), in as few requests as the
// server's query limits allow. Throws as walk_catalogue does.
boost::asio::awaitable<SkuItems> look_up_skus(Api& api, std::span<const std::string> skus,
                                              std::string_view location_id);

}  // namespace pb::connectors::medusa
