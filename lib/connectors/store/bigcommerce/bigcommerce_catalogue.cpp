#include "connectors/store/bigcommerce/bigcommerce_catalogue.hpp"

#include <unordered_set>

#include "connectors/store/bigcommerce/bigcommerce_json.hpp"
#include "net/url.hpp"

namespace pb::connectors::bigcommerce {
namespace {

namespace asio = boost::asio;

// A walk that does not end by itself (a server answering the same page forever) ends here:
// 100 million items, far past any store.
constexpr std::size_t kMaxPages = 100'000;

// Pages through GET /inventory/items with `filter` ("" or "sku:in=...&"), appending to `out`.
asio::awaitable<void> page_through(Client& client, const std::string& filter, SkuIds& out,
                                   WalkStats& stats) {
  for (std::size_t page = 1; page <= kMaxPages; ++page) {
    const auto resource = "/inventory/items?" + filter + "limit=" + std::to_string(kPageLimit) +
                          "&page=" + std::to_string(page);
    const std::string no_body;
    auto answer = co_await client.send("GET", resource, no_body);
    auto items = parse_items_page(answer.json);
    if (!items)
      throw StoreError(client.origin() + ": GET /inventory/items page " + std::to_string(page) +
                           ": not an inventory items page",
                       StoreError::Retry::no);
    ++stats.pages;
    stats.items += items->count;
    for (auto& entry : items->items) out.push_back(std::move(entry));
    if (items->count == 0) break;
    if (items->total_pages != 0 ? page >= items->total_pages : items->count < kPageLimit) break;
  }
}

}  // namespace

asio::awaitable<SkuIds> walk_inventory(Client& client, WalkStats& stats) {
  SkuIds found;
  const std::string no_filter;
  co_await page_through(client, no_filter, found, stats);
  co_return found;
}

asio::awaitable<SkuIds> look_up_skus(Client& client, const std::vector<std::string>& skus) {
  std::vector<std::string> askable;
  for (const auto& sku : skus)
    if (sku.find(',') == std::string::npos) askable.push_back(sku);
  const std::unordered_set<std::string> wanted(askable.begin(), askable.end());
  SkuIds found;
  WalkStats stats;
  for (std::size_t from = 0; from < askable.size(); from += kLookupBatch) {
    std::string filter = "sku:in=";
    const auto to = std::min(askable.size(), from + kLookupBatch);
    for (std::size_t i = from; i < to; ++i) {
      if (i > from) filter += ',';
      filter += net::url_encode(askable[i]);
    }
    filter += '&';
    SkuIds page;
    co_await page_through(client, filter, page, stats);
    for (auto& entry : page)
      if (wanted.contains(entry.first)) found.push_back(std::move(entry));
  }
  co_return found;
}

}  // namespace pb::connectors::bigcommerce
