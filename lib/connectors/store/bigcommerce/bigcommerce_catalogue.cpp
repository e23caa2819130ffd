#include "connectors/store/bigcommerce/bigcommerce_catalogue.hpp"

#include <charconv>
#include <unordered_set>

#include "connectors/store/bigcommerce/bigcommerce_json.hpp"
#include "net/url.hpp"

namespace pb::connectors::bigcommerce {
namespace {

namespace asio = boost::asio;

// A walk that does not end by itself (a server answering the same page forever) ends here:
// 100 million items, far past any store.
constexpr std::size_t kMaxPages = 100'000;

// GET /inventory/items with `filter` ("" or "sku:in=...&"), page `page`.
asio::awaitable<ItemsPage> fetch_page(Client& client, const std::string& filter, std::size_t page,
                                      WalkStats& stats) {
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
  co_return std::move(*items);
}

bool last_page(const ItemsPage& items, std::size_t page) {
  if (items.count == 0 || page >= kMaxPages) return true;
  return items.total_pages != 0 ? page >= items.total_pages : items.count < kPageLimit;
}

// Pages through GET /inventory/items with `filter`, appending to `out`.
asio::awaitable<void> page_through(Client& client, const std::string& filter, SkuIds& out,
                                   WalkStats& stats) {
  for (std::size_t page = 1;; ++page) {
    auto items = co_await fetch_page(client, filter, page, stats);
    for (auto& entry : items.items) out.push_back(std::move(entry));
    if (last_page(items, page)) break;
  }
}

}  // namespace

asio::awaitable<WalkPage> read_walk_page(Client& client, const std::string& position,
                                         WalkStats& stats) {
  std::size_t page = 0;
  const auto* end = position.data() + position.size();
  const auto [stopped, error] = std::from_chars(position.data(), end, page);
  if (error != std::errc{} || stopped != end || page == 0)
    throw StoreError("BigCommerce catalogue walk: bad page position \"" + position + "\"",
                     StoreError::Retry::no);
  const std::string no_filter;
  auto items = co_await fetch_page(client, no_filter, page, stats);
  WalkPage out;
  out.entries = std::move(items.items);
  out.listed = items.count;
  out.total = items.total;
  if (!last_page(items, page)) out.next = std::to_string(page + 1);
  co_return out;
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
