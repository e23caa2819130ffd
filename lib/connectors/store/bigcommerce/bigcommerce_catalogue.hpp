// Which SKUs the BigCommerce store has: GET /v3/inventory/items, paged (limit up to 1,000),
// either whole (the catalogue walk, a page a step of run_resumable_walk, or into memory for a
// refresh) or filtered by SKU (sku:in, for SKUs the walk missed).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "connectors/store/bigcommerce/bigcommerce_client.hpp"
#include "connectors/store/resumable_walk.hpp"

namespace pb::connectors::bigcommerce {

// BigCommerce's cap on `limit` for inventory items (reference/inventory.v3.yml).
inline constexpr std::size_t kPageLimit = 1000;
// SKUs per sku:in lookup: keeps the URL short (a SKU may be 255 characters).
inline constexpr std::size_t kLookupBatch = 50;

using SkuIds = std::vector<std::pair<std::string, std::string>>;  // SKU -> "v<id>" | "p<id>"

struct WalkStats {
  std::size_t pages = 0;
  std::size_t items = 0;  // items listed, with or without a SKU
};

// The walk's kind in its checkpoint; positions are page numbers ("1", "2", ...). BigCommerce
// SKUs are unique in a store (one item each), so a page's entries need no merge.
inline constexpr std::string_view kWalkKind = "bigcommerce-items";

// Page `position` of the whole catalogue, as a step of the walk: its items with a SKU, the next
// page unless this one is the last (meta.pagination.total_pages, or a short or empty page when
// the meta is missing), and meta.pagination.total. Throws as Client::send does, and StoreError
// when the page is not an items page.
boost::asio::awaitable<WalkPage> read_walk_page(Client& client, const std::string& position,
                                                WalkStats& stats);

// Those of `skus` the store has now. A SKU holding a comma cannot be named in sku:in: it is
// not asked for (the walk alone decides for it).
boost::asio::awaitable<SkuIds> look_up_skus(Client& client, const std::vector<std::string>& skus);

}  // namespace pb::connectors::bigcommerce
