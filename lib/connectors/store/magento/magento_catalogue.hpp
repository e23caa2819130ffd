// Finding the store's SKUs: the walk of every product (GET /V1/products, searchCriteria
// paging) that fills the id cache, a wave of pages a step of run_resumable_walk (or into memory
// for a refresh), and the lookup by SKU that mends it between walks.
// Only SKUs found here are ever sent: Magento creates a source item for any SKU it is sent,
// product or not, so an unknown SKU would become an orphan row in inventory_source_item.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "connectors/store/magento/magento_api.hpp"
#include "connectors/store/resumable_walk.hpp"

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

// Pages a step of the walk reads, `concurrency` at once: a kill costs at most this many pages.
constexpr std::size_t kMagentoWave = 4;
// The walk's kind in its checkpoint. Magento SKUs are unique (one product each), so a step's
// entries need no merge.
inline constexpr std::string_view kMagentoWalkKind = "magento-products";

// Where the walk stands: the searchCriteria currentPage and pageSize to read next (the page
// size in force: the store may have lowered it), and the total_count last seen (0: unknown).
struct MagentoWalkPosition {
  std::size_t page = 1;
  std::size_t page_size = kMagentoPageSize;
  std::size_t total = 0;
};
// "PAGE SIZE TOTAL"; decode returns nullopt for anything else.
std::string encode_walk_position(const MagentoWalkPosition& at);
std::optional<MagentoWalkPosition> decode_walk_position(std::string_view text);
// The same place with a page size of at most `cap` (the store's "Maximum SearchCriteria pageSize
// is N"): the next page still begins at the first product not read, so the page size is the
// largest one up to `cap` that divides the products read so far.
MagentoWalkPosition with_page_size_cap(const MagentoWalkPosition& at, std::size_t cap);

// One step of the walk from `position`: up to kMagentoWave pages, `concurrency` at once (one
// while total_count is not known), ending at the last page total_count gives (a page past the
// end repeats the last one, so reading until an empty page would never end). A page size the
// store refuses is lowered and the step read again. Entries are SKU -> encode_product().
// Throws MagentoRequestError, MagentoTokenRefused.
boost::asio::awaitable<WalkPage> read_walk_step(MagentoApi& api, std::size_t concurrency,
                                                const std::string& position,
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
