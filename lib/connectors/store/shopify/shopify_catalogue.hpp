// Finding inventory item ids by SKU in a Shopify catalogue: once by walking
// every variant (the result is cached), and for SKUs the cache lacks by a
// search query over a bounded number of SKUs.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "connectors/store/shopify/shopify_client.hpp"
#include "connectors/store/shopify/shopify_id_map.hpp"
#include "log/fields.hpp"

namespace pb::connectors::shopify {

// SKUs per search query: sku:"A" OR sku:"B" ... of 50 terms keeps the query
// text short (about 2 KB for 40-character SKUs) and the requested cost low
// (2 + 2 x 50 = 102 points).
inline constexpr std::size_t kSkusPerSearch = 50;
// Pages read per search group: enough for every SKU of the group on several
// variants (4 x 50 nodes), a bound on a search that matches more than it should.
inline constexpr std::size_t kPagesPerSearch = 4;

// Pages through productVariants, 250 at a time, and returns every SKU with its
// inventory item ids (sorted by SKU). Logs progress every 10 pages.
boost::asio::awaitable<std::vector<std::pair<std::string, ItemIds>>> walk_catalogue(
    GraphqlClient& client, const log::Fields& fields);

// Searches for `skus` (kSkusPerSearch a query) and returns those found, each
// with its inventory item ids. Only exact matches count: Shopify's search is
// case-insensitive, the mapping is not.
boost::asio::awaitable<std::unordered_map<std::string, ItemIds>> find_skus(
    GraphqlClient& client, std::vector<std::string> skus);

}  // namespace pb::connectors::shopify
