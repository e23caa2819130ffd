// Finding the store's SKUs: the walk of every product (GET /V1/products, searchCriteria
// paging) that fills the id cache, and the lookup by SKU that mends it between walks.
// Only SKUs found here are ever sent: Magento creates a source item for any SKU it is sent,
// product or not, so an unknown SKU would become an orphan row in inventory_source_item.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "connectors/store/magento/magento_api.hpp"

namespace pb::connectors {

// A product as the cache keeps it: its id and type ("simple", "configurable", ...).
struct MagentoProduct {
  std::string id;
  std::string type;
};

// By SKU (unique in Magento).
using MagentoProducts = std::unordered_map<std::string, MagentoProduct>;

// The cache's encoding: "ID:TYPE"; decode returns nullopt for anything else.
std::string encode_product(const MagentoProduct& product);
std::optional<MagentoProduct> decode_product(std::string_view text);

// Whether a product of this type has a quantity of its own. Configurable, bundle and grouped
// products take theirs from their children; other types (simple, virtual, downloadable, a
// module's own) do.
bool holds_quantity(std::string_view type);

struct MagentoWalkStats {
  std::size_t requests = 0;
  std::size_t products = 0;
  std::size_t page_size = 0;
};

// The documented default "Maximum Page Size" when input limits are on; a lower one is learnt
// from the store's refusal ("Maximum SearchCriteria pageSize is N").
constexpr std::size_t kMagentoPageSize = 300;

// Pages through every product, up to `concurrency` requests at once after the first page
// (which gives total_count). Throws MagentoRequestError, MagentoTokenRefused.
boost::asio::awaitable<MagentoProducts> walk_catalogue(MagentoApi& api, std::size_t concurrency,
                                                       MagentoWalkStats& stats);

// The products among `skus` (a filter sku IN (...), 50 SKUs a request). SKUs holding a comma
// cannot be asked for (Magento splits the value at commas) and are left out.
boost::asio::awaitable<MagentoProducts> find_products(MagentoApi& api,
                                                      const std::vector<std::string>& skus,
                                                      std::size_t concurrency);

// The pieces, exposed for tests.
// The query of one page: page size, page number (1-based), a stable order, only the fields
// the map needs.
std::string products_page_query(std::size_t page, std::size_t page_size);
// Adds a page's items to `out`; returns its total_count (nullopt when absent). Throws
// MagentoRequestError when the body is not a search result.
std::optional<std::size_t> read_products_page(const boost::json::value& body, MagentoProducts& out);
// How many pages `total` products fill.
std::size_t page_count(std::size_t total, std::size_t page_size);
// The `value` of sku IN filters for `skus`, url-encoded, at most 50 SKUs each.
std::vector<std::string> sku_filter_values(const std::vector<std::string>& skus);

}  // namespace pb::connectors
