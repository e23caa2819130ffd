#include "connectors/store/shopify/shopify_catalogue.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <unordered_set>

#include "connectors/store/store.hpp"
#include "log/log.hpp"

namespace pb::connectors::shopify {
namespace {

namespace asio = boost::asio;

constexpr std::size_t kLogEveryPages = 10;

// Adds `id` to the SKU's list unless a page seen before listed it already
// (a catalogue edited during the walk can shift a variant across pages).
void add(std::unordered_map<std::string, ItemIds>& map, std::string sku, std::string id) {
  auto& ids = map[std::move(sku)];
  if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
}

VariantsPage read_page(const Reply& reply) {
  try {
    return read_variants_page(reply.data);
  } catch (const std::runtime_error& e) {
    throw StoreError(e.what(), StoreError::Retry::no);
  }
}

}  // namespace

asio::awaitable<std::vector<std::pair<std::string, ItemIds>>> walk_catalogue(
    GraphqlClient& client, const log::Fields& fields) {
  const auto start = std::chrono::steady_clock::now();
  const auto points_before = client.stats().points;
  std::unordered_map<std::string, ItemIds> map;
  std::string cursor;
  std::size_t pages = 0, variants = 0;
  for (;;) {
    auto body = request_body(kVariantsPageQuery, variants_page_variables(cursor));
    const auto reply = co_await client.call(CallKind::catalogue_page, std::move(body));
    auto page = read_page(reply);
    ++pages;
    variants += page.variants.size();
    for (auto& v : page.variants) add(map, std::move(v.sku), std::move(v.inventory_item_id));
    if (pages % kLogEveryPages == 0)
      pb::log::info(fields, "Shopify catalogue walk: {} variants read in {} pages", variants,
                    pages);
    if (!page.has_next_page) break;
    if (page.end_cursor == cursor)
      throw StoreError(
          "Shopify catalogue walk: the same page came back twice (cursor " + cursor + ")",
          StoreError::Retry::no);
    cursor = std::move(page.end_cursor);
  }
  std::vector<std::pair<std::string, ItemIds>> entries(std::make_move_iterator(map.begin()),
                                                       std::make_move_iterator(map.end()));
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  pb::log::info(
      fields,
      "Shopify catalogue walk done: {} SKUs on {} variants in {} pages, {:.0f} cost points, "
      "{:.1f} s",
      entries.size(), variants, pages, client.stats().points - points_before, seconds);
  co_return entries;
}

asio::awaitable<std::unordered_map<std::string, ItemIds>> find_skus(GraphqlClient& client,
                                                                    std::vector<std::string> skus) {
  std::unordered_map<std::string, ItemIds> found;
  for (std::size_t from = 0; from < skus.size(); from += kSkusPerSearch) {
    const auto to = std::min(skus.size(), from + kSkusPerSearch);
    const std::vector<std::string> group(skus.begin() + static_cast<std::ptrdiff_t>(from),
                                         skus.begin() + static_cast<std::ptrdiff_t>(to));
    const std::unordered_set<std::string> wanted(group.begin(), group.end());
    const auto query = sku_search_query(group);
    std::string cursor;
    for (std::size_t page_number = 0; page_number < kPagesPerSearch; ++page_number) {
      auto body = request_body(kVariantsSearchQuery,
                               variants_search_variables(query, group.size(), cursor));
      const auto reply = co_await client.call(CallKind::sku_lookup, std::move(body));
      auto page = read_page(reply);
      for (auto& v : page.variants)
        if (wanted.count(v.sku) != 0) add(found, std::move(v.sku), std::move(v.inventory_item_id));
      if (!page.has_next_page || page.end_cursor == cursor) break;
      cursor = std::move(page.end_cursor);
    }
  }
  co_return found;
}

}  // namespace pb::connectors::shopify
