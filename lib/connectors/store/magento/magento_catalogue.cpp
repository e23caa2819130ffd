#include "connectors/store/magento/magento_catalogue.hpp"

#include <algorithm>
#include <charconv>
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

// Page `page` of `page_size` products into `out` (any answer: the step judges them together).
boost::asio::awaitable<void> fetch_page(MagentoApi& api, std::size_t page, std::size_t page_size,
                                        MagentoReply& out) {
  const auto query = products_page_query(page, page_size);
  out = co_await api.get(kProducts, query);
}

// The page size the store asks for in any of `replies`, when lower than `page_size`.
std::optional<std::size_t> lower_cap(const std::vector<MagentoReply>& replies,
                                     std::size_t page_size) {
  std::optional<std::size_t> cap;
  for (const auto& reply : replies) {
    if (reply.status != 400) continue;
    const auto limit = page_size_limit(reply.text);
    if (limit && *limit > 0 && *limit < page_size && (!cap || *limit < *cap)) cap = limit;
  }
  return cap;
}

std::optional<std::size_t> number(std::string_view text) {
  std::size_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [stopped, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc{} || stopped != end || text.empty()) return std::nullopt;
  return value;
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

std::string encode_walk_position(const MagentoWalkPosition& at) {
  return std::to_string(at.page) + " " + std::to_string(at.page_size) + " " +
         std::to_string(at.total);
}

std::optional<MagentoWalkPosition> decode_walk_position(std::string_view text) {
  const auto first = text.find(' ');
  const auto second = first == std::string_view::npos ? first : text.find(' ', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const auto page = number(text.substr(0, first));
  const auto size = number(text.substr(first + 1, second - first - 1));
  const auto total = number(text.substr(second + 1));
  if (!page || !size || !total || *page == 0 || *size == 0) return std::nullopt;
  return MagentoWalkPosition{*page, *size, *total};
}

MagentoWalkPosition with_page_size_cap(const MagentoWalkPosition& at, std::size_t cap) {
  const auto read = (at.page - 1) * at.page_size;
  auto size = std::max<std::size_t>(1, std::min(cap, at.page_size));
  while (read % size != 0) --size;  // ends at 1 at the latest
  return MagentoWalkPosition{read / size + 1, size, at.total};
}

boost::asio::awaitable<WalkPage> read_walk_step(MagentoApi& api, std::size_t concurrency,
                                                const std::string& position,
                                                MagentoWalkStats& stats) {
  auto at = decode_walk_position(position);
  if (!at) throw MagentoRequestError("catalogue walk: bad position \"" + position + "\"");
  std::vector<MagentoReply> replies;
  // Twice at most: a store lowers its cap once, and a second refusal is not followed further.
  for (int lowered = 0;; ++lowered) {
    const auto pages = at->total == 0 ? at->page : page_count(at->total, at->page_size);
    const auto count = std::min(kMagentoWave, std::max(pages, at->page) - at->page + 1);
    replies.assign(count, MagentoReply{});
    const auto from = at->page;
    const auto size = at->page_size;
    const async::IndexedTask task = [&](std::size_t i) {
      return fetch_page(api, from + i, size, replies[i]);
    };
    co_await async::for_each_bounded(count, std::max<std::size_t>(1, concurrency), task);
    stats.requests += count;
    const auto cap = lower_cap(replies, size);
    if (!cap || lowered == 2) break;
    at = with_page_size_cap(*at, *cap);
  }
  stats.page_size = at->page_size;
  MagentoProducts found;
  std::optional<std::size_t> total;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const auto page = std::to_string(at->page + i);
    if (!replies[i].ok())
      throw MagentoRequestError("GET products page " + page + ": " + replies[i].text);
    total = read_products_page(replies[i].body, found);
    if (!total)
      throw MagentoRequestError("GET products page " + page + ": the answer has no total_count");
  }
  stats.products += found.size();
  WalkPage out;
  out.listed = found.size();
  out.total = *total;
  out.entries.reserve(found.size());
  for (const auto& [sku, product] : found) out.entries.emplace_back(sku, encode_product(product));
  const auto next = at->page + replies.size();
  if (next <= page_count(*total, at->page_size))
    out.next = encode_walk_position({next, at->page_size, *total});
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
