#include "connectors/store/magento/magento_catalogue.hpp"

#include <algorithm>
#include <unordered_set>

#include "async/for_each_bounded.hpp"
#include "connectors/store/magento/magento_messages.hpp"
#include "connectors/store/sku_lists.hpp"
#include "net/url.hpp"

namespace pb::connectors {
namespace {

namespace json = boost::json;

// Magento's REST `fields` filter: a page of three fields per product is a few KB where the
// full product objects are hundreds.
constexpr std::string_view kFields = "items%5Bsku%2Cid%2Ctype_id%5D%2Ctotal_count";
// One filter value stays well under the 8 KB request line common servers accept.
constexpr std::size_t kMaxSkusPerFilter = 50;
constexpr std::size_t kMaxFilterChars = 2000;
const std::string kProducts = "products";

std::string id_text(const json::value& v) {
  if (v.is_int64() && v.get_int64() > 0) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_string()) return std::string(v.get_string());
  return {};
}

std::string text_of(const json::object& object, std::string_view key) {
  const auto* v = object.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string{};
}

struct WalkState {
  MagentoApi& api;
  MagentoProducts& out;
  MagentoWalkStats& stats;
};

boost::asio::awaitable<void> fetch_page(WalkState& state, std::size_t page) {
  const auto query = products_page_query(page, state.stats.page_size);
  const auto reply = co_await state.api.get(kProducts, query);
  if (!reply.ok())
    throw MagentoRequestError("GET products page " + std::to_string(page) + ": " + reply.text);
  ++state.stats.requests;
  const auto before = state.out.size();
  read_products_page(reply.body, state.out);
  state.stats.products += state.out.size() - before;
}

boost::asio::awaitable<void> fetch_by_sku(MagentoApi& api, const std::string& value,
                                          const std::unordered_set<std::string>& wanted,
                                          MagentoProducts& out) {
  const auto query =
      "searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=sku"
      "&searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bcondition_type%5D=in"
      "&searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=" +
      value + "&" + products_page_query(1, kMaxSkusPerFilter);
  const auto reply = co_await api.get(kProducts, query);
  if (!reply.ok()) throw MagentoRequestError("GET products by SKU: " + reply.text);
  MagentoProducts found;
  read_products_page(reply.body, found);
  for (auto& [sku, product] : found)
    if (wanted.contains(sku)) out[sku] = std::move(product);
}

}  // namespace

std::string encode_product(const MagentoProduct& product) {
  return product.id + ":" + product.type;
}

std::optional<MagentoProduct> decode_product(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  return MagentoProduct{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

bool holds_quantity(std::string_view type) {
  return type != "configurable" && type != "bundle" && type != "grouped";
}

std::string products_page_query(std::size_t page, std::size_t page_size) {
  // Sorted by entity_id, so that products added during the walk land on the last pages rather
  // than shift every page after them.
  return "searchCriteria%5BpageSize%5D=" + std::to_string(page_size) +
         "&searchCriteria%5BcurrentPage%5D=" + std::to_string(page) +
         "&searchCriteria%5BsortOrders%5D%5B0%5D%5Bfield%5D=entity_id"
         "&searchCriteria%5BsortOrders%5D%5B0%5D%5Bdirection%5D=ASC&fields=" +
         std::string(kFields);
}

std::optional<std::size_t> read_products_page(const json::value& body, MagentoProducts& out) {
  if (!body.is_object()) throw MagentoRequestError("a product search answer is not a JSON object");
  const auto& object = body.get_object();
  // With no match Magento leaves `items` out (or sends null): an empty page.
  if (const auto* items = object.if_contains("items"); items != nullptr && items->is_array()) {
    for (const auto& item : items->get_array()) {
      if (!item.is_object()) continue;
      const auto& product = item.get_object();
      auto sku = text_of(product, "sku");
      const auto* id = product.if_contains("id");
      auto id_string = id != nullptr ? id_text(*id) : std::string{};
      if (sku.empty() || id_string.empty()) continue;
      out[std::move(sku)] = MagentoProduct{std::move(id_string), text_of(product, "type_id")};
    }
  }
  const auto* total = object.if_contains("total_count");
  if (total == nullptr) return std::nullopt;
  if (total->is_int64() && total->get_int64() >= 0)
    return static_cast<std::size_t>(total->get_int64());
  if (total->is_uint64()) return static_cast<std::size_t>(total->get_uint64());
  return std::nullopt;
}

std::size_t page_count(std::size_t total, std::size_t page_size) {
  return page_size == 0 ? 0 : (total + page_size - 1) / page_size;
}

std::vector<std::string> sku_filter_values(const std::vector<std::string>& skus) {
  // The comma between SKUs is encoded: Magento splits the decoded filter value at it.
  return sku_lists(skus, "%2C", kMaxSkusPerFilter, kMaxFilterChars);
}

boost::asio::awaitable<MagentoProducts> walk_catalogue(MagentoApi& api, std::size_t concurrency,
                                                       MagentoWalkStats& stats) {
  MagentoProducts out;
  stats.page_size = kMagentoPageSize;
  // The first page says how many there are, and whether the store caps the page size.
  MagentoReply first;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const auto query = products_page_query(1, stats.page_size);
    first = co_await api.get(kProducts, query);
    ++stats.requests;
    const auto cap = first.status == 400 ? page_size_limit(first.text) : std::nullopt;
    if (!cap || *cap >= stats.page_size) break;
    stats.page_size = *cap;
  }
  if (!first.ok()) throw MagentoRequestError("GET products: " + first.text);
  const auto total = read_products_page(first.body, out);
  stats.products = out.size();
  // A page past the end repeats the last one, so the count of pages comes from total_count,
  // never from reading until an empty page.
  if (!total) throw MagentoRequestError("GET products: the answer has no total_count");
  const auto pages = page_count(*total, stats.page_size);
  WalkState state{api, out, stats};
  const async::IndexedTask task = [&state](std::size_t i) { return fetch_page(state, i + 2); };
  co_await async::for_each_bounded(pages > 1 ? pages - 1 : 0, concurrency, task);
  co_return out;
}

boost::asio::awaitable<MagentoProducts> find_products(MagentoApi& api,
                                                      const std::vector<std::string>& skus,
                                                      std::size_t concurrency) {
  MagentoProducts out;
  const auto values = sku_filter_values(skus);
  const std::unordered_set<std::string> wanted(skus.begin(), skus.end());
  const async::IndexedTask task = [&](std::size_t i) {
    return fetch_by_sku(api, values[i], wanted, out);
  };
  co_await async::for_each_bounded(values.size(), concurrency, task);
  co_return out;
}

}  // namespace pb::connectors
