#include "connectors/store/medusa/medusa_catalogue.hpp"

#include <algorithm>
#include <exception>
#include <utility>
#include <vector>

#include "async/for_each_bounded.hpp"

namespace pb::connectors::medusa {
namespace {

constexpr std::size_t kPageSize = 1000;
constexpr std::string_view kItems = "/admin/inventory-items";

// One page, or RequestError: a refusal of a plain GET means the server does not speak this API.
boost::asio::awaitable<InventoryPage> get_page(Api& api, const std::string& query,
                                               std::string_view location_id) {
  auto reply = co_await api.get(std::string(kItems), query);
  if (!reply.ok())
    throw RequestError("GET " + std::string(kItems) + ": " +
                       api.redact(describe_error(reply.response)));
  try {
    co_return parse_inventory_page(reply.body, location_id);
  } catch (const std::exception& e) {
    throw RequestError("GET " + std::string(kItems) + ": unexpected reply: " + e.what());
  }
}

}  // namespace

boost::asio::awaitable<SkuItems> walk_catalogue(Api& api, std::string_view location_id,
                                                std::size_t concurrency, WalkStats& stats) {
  auto first = co_await get_page(api, catalogue_query(0, kPageSize), location_id);
  ++stats.requests;
  stats.items += first.returned;
  SkuItems found = std::move(first.items);
  const std::size_t pages = first.count > kPageSize ? (first.count - 1) / kPageSize : 0;
  std::vector<InventoryPage> rest(pages);
  const async::IndexedTask task = [&](std::size_t k) -> boost::asio::awaitable<void> {
    const auto query = catalogue_query((k + 1) * kPageSize, kPageSize);
    rest[k] = co_await get_page(api, query, location_id);
  };
  co_await async::for_each_bounded(pages, concurrency, task);
  for (auto& page : rest) {
    stats.requests++;
    stats.items += page.returned;
    for (auto& entry : page.items) found.push_back(std::move(entry));
  }
  // Items added while the walk ran may shift a page by a few (offset paging): the walk is taken
  // as of its start; an item it missed is found by a look-up when its SKU is pushed.
  co_return found;
}

boost::asio::awaitable<WalkPage> read_walk_step(WalkReader& reader, std::size_t offset) {
  if (!reader.started_at) reader.started_at = offset;
  // One page until the count is known; then what remains, up to `concurrency` pages at once.
  std::size_t pages = 1;
  if (reader.count > 0) {
    const auto remaining = reader.count > offset ? reader.count - offset : 0;
    pages = std::clamp<std::size_t>((remaining + kPageSize - 1) / kPageSize, 1, reader.concurrency);
  }
  std::vector<InventoryPage> read(pages);
  const async::IndexedTask task = [&](std::size_t k) -> boost::asio::awaitable<void> {
    const auto query = catalogue_query(offset + k * kPageSize, kPageSize);
    read[k] = co_await get_page(reader.api, query, reader.location_id);
  };
  co_await async::for_each_bounded(pages, reader.concurrency, task);
  WalkPage step;
  bool last = false;
  for (auto& page : read) {
    ++reader.stats.requests;
    reader.stats.items += page.returned;
    step.listed += page.returned;
    reader.count = page.count;
    // A short page is the end, whatever the count said (items deleted meanwhile).
    last |= page.returned < kPageSize;
    for (auto& [sku, item] : page.items)
      step.entries.emplace_back(std::move(sku), encode_item(item));
  }
  step.total = reader.count;
  const auto next = offset + pages * kPageSize;
  if (!last && next < reader.count) step.next = std::to_string(next);
  co_return step;
}

boost::asio::awaitable<SkuItems> look_up_skus(Api& api, std::span<const std::string> skus,
                                              std::string_view location_id) {
  SkuItems found;
  for (const auto& query : lookup_queries(skus)) {
    auto page = co_await get_page(api, query, location_id);
    for (auto& entry : page.items) found.push_back(std::move(entry));
  }
  co_return found;
}

}  // namespace pb::connectors::medusa
