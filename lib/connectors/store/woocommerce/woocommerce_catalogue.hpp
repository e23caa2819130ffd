// Finding where SKUs live in a WooCommerce store: the walk of every product
// and variation that fills the id cache, and the bounded lookups that mend it
// between walks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "connectors/store/woocommerce/woocommerce_api.hpp"
#include "connectors/store/woocommerce/woocommerce_ids.hpp"

namespace pb::connectors {

// Every SKU found, with all the products and variations carrying it (a SKU is meant to be
// unique, but WooCommerce can be made to accept duplicates; stock then goes to each).
using SkuTargets = std::unordered_map<std::string, std::vector<WooTarget>>;

struct WalkStats {
  std::size_t products = 0;
  std::size_t variations = 0;
  std::size_t requests = 0;
};

// WordPress caps per_page at 100.
constexpr std::size_t kWooPageSize = 100;

// Pages through products (ordered by id, so that a store edited meanwhile shifts pages
// little) and the variations of every variable product, up to `concurrency` requests at
// once. Throws WooRequestError, or StoreError when the store refuses the key.
boost::asio::awaitable<SkuTargets> walk_catalogue(WooCommerceApi& api, std::size_t concurrency,
                                                  WalkStats& stats);

class WooIdIndex;
struct PushContext;

// walk_catalogue, resumable: written into `index` as it goes, a wave of pages at a time with
// a checkpoint ("woo products <next page>" or "woo variations <next parent>", then the variable
// products found so far), so that a stop (context.stop, checked between waves) or a kill
// resumes where it stood; shows its progress on context.progress. Resumes the walk on
// record if there is one. Throws WooRequestError, StoreError (stopped, key refused).
boost::asio::awaitable<void> walk_catalogue_into(WooCommerceApi& api, std::size_t concurrency,
                                                 WooIdIndex& index, const PushContext& context,
                                                 WalkStats& stats);

// The products carrying any of `skus`: GET products?sku=A,B,C in requests of a bounded URL
// length. Variations are not found this way (WooCommerce searches products only); SKUs
// holding a comma cannot be asked for and are left out.
boost::asio::awaitable<SkuTargets> find_products(WooCommerceApi& api,
                                                 const std::vector<std::string>& skus,
                                                 std::size_t concurrency);

// Every variation with a SKU of each of `parents` (one parent's pages, not the catalogue's).
boost::asio::awaitable<SkuTargets> find_variations(WooCommerceApi& api,
                                                   const std::vector<std::uint64_t>& parents,
                                                   std::size_t concurrency);

// The pieces, exposed for tests.
// Adds a page of products to `out`; appends to `parents` the variable products whose
// variations must be listed. Returns how many products the page held.
std::size_t read_products_page(const boost::json::value& page, SkuTargets& out,
                               std::vector<std::uint64_t>* parents);
// Adds a page of `parent`'s variations to `out`; returns how many it held.
std::size_t read_variations_page(const boost::json::value& page, std::uint64_t parent,
                                 SkuTargets& out);
// The `sku` parameter values for `skus`: url-encoded, comma-joined, each under a size bound.
std::vector<std::string> sku_query_values(const std::vector<std::string>& skus);

}  // namespace pb::connectors
