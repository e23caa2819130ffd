#include "connectors/store/woocommerce/woocommerce_catalogue.hpp"

#include <algorithm>
#include <unordered_set>

#include <charconv>

#include "async/for_each_bounded.hpp"
#include "async/offload.hpp"
#include "connectors/store/sku_lists.hpp"
#include "connectors/store/store.hpp"
#include "connectors/store/woocommerce/woocommerce_id_index.hpp"
#include "net/url.hpp"

namespace pb::connectors {
namespace {

namespace json = boost::json;

// Only what the mapping needs (WordPress's `_fields`): a product page is then a few
// KB instead of ~300 KB, and WordPress skips computing the rest.
constexpr std::string_view kProductFields = "id,sku,type,parent_id,variations";
constexpr std::string_view kVariationFields = "id,sku,parent_id";
// One `sku=` value stays well under the 8 KB request line common servers accept, and
// its matches (one product a SKU, normally) fit a page.
constexpr std::size_t kMaxSkuQueryChars = 1500;
constexpr std::size_t kMaxSkusPerQuery = 50;
// Without X-WP-TotalPages (a proxy dropped it) pages are read until a short one; this
// stops a store that ignores `page` from keeping us forever.
constexpr std::size_t kMaxPagesWithoutTotal = 100'000;

const std::string kProducts = "products";

std::string page_query(std::size_t page, std::string_view fields) {
  return "per_page=" + std::to_string(kWooPageSize) + "&page=" + std::to_string(page) +
         "&orderby=id&order=asc&_fields=" + std::string(fields);
}

std::uint64_t id_of(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr) return 0;
  if (value->is_uint64()) return value->get_uint64();
  if (value->is_int64() && value->get_int64() > 0)
    return static_cast<std::uint64_t>(value->get_int64());
  return 0;
}

std::string sku_of(const json::object& object) {
  const auto* value = object.if_contains("sku");
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string{};
}

const json::array& as_page(const json::value& page) {
  if (!page.is_array())
    throw WooRequestError("the store's answer to a listing is not a JSON array");
  return page.get_array();
}

// Whether another page may follow `page` (1-based) of a listing.
bool more_pages(const WooReply& reply, std::size_t page, std::size_t count) {
  if (reply.total_pages) return page < *reply.total_pages;
  return count == kWooPageSize && page < kMaxPagesWithoutTotal;
}

struct WalkState {
  WooCommerceApi& api;
  SkuTargets& out;
  std::vector<std::uint64_t>& parents;
  WalkStats& stats;
};

boost::asio::awaitable<void> fetch_products_page(WalkState& state, std::size_t page) {
  const auto query = page_query(page, kProductFields);
  const auto reply = co_await state.api.get(kProducts, query);
  ++state.stats.requests;
  state.stats.products += read_products_page(reply.body, state.out, &state.parents);
}

// All pages of one parent's variations, one after another: most parents have one page.
boost::asio::awaitable<void> fetch_variations(WooCommerceApi& api, std::uint64_t parent,
                                              SkuTargets& out, WalkStats& stats) {
  const auto resource = "products/" + std::to_string(parent) + "/variations";
  for (std::size_t page = 1;; ++page) {
    const auto query = page_query(page, kVariationFields);
    WooReply reply;
    try {
      reply = co_await api.get(resource, query);
    } catch (const WooRequestError& e) {
      // The product was deleted since it was listed (or since its id was cached).
      if (e.status() != 404) throw;
      break;
    }
    ++stats.requests;
    const auto count = read_variations_page(reply.body, parent, out);
    stats.variations += count;
    if (!more_pages(reply, page, count)) break;
  }
}

// All pages of products?sku=VALUE, keeping exact matches of `wanted` only.
boost::asio::awaitable<void> fetch_by_sku(WooCommerceApi& api, const std::string& value,
                                          const std::unordered_set<std::string>& wanted,
                                          SkuTargets& out) {
  for (std::size_t page = 1;; ++page) {
    const auto query = "sku=" + value + "&" + page_query(page, kProductFields);
    const auto reply = co_await api.get(kProducts, query);
    SkuTargets found;
    const auto count = read_products_page(reply.body, found, nullptr);
    for (auto& [sku, targets] : found)
      if (wanted.contains(sku))
        for (const auto& t : targets) add_target(out[sku], t);
    if (!more_pages(reply, page, count)) break;
  }
}

void sort_targets(SkuTargets& targets) {
  for (auto& [sku, list] : targets) std::sort(list.begin(), list.end());
}

// ---- the resumable walk --------------------------------------------------------------------

// Pages (or parents) fetched between two checkpoints, per request in flight.
constexpr std::size_t kPagesPerWave = 4;

// Where a resumable walk stands: "woo products <page>\n<parents>" or "woo variations
// <index>\n<parents>", the parents as comma-separated decimal ids.
struct WooCheckpoint {
  bool variations = false;
  std::size_t next = 1;
  std::vector<std::uint64_t> parents;
};

std::string encode_checkpoint(const WooCheckpoint& c) {
  std::string out = std::string(c.variations ? "woo variations " : "woo products ") +
                    std::to_string(c.next) + "\n";
  for (std::size_t i = 0; i < c.parents.size(); ++i)
    out += (i ? "," : "") + std::to_string(c.parents[i]);
  return out;
}

std::optional<WooCheckpoint> decode_checkpoint(std::string_view text) {
  WooCheckpoint c;
  if (text.starts_with("woo variations "))
    c.variations = true;
  else if (!text.starts_with("woo products "))
    return std::nullopt;
  text.remove_prefix(c.variations ? 15 : 13);
  const auto nl = text.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  std::from_chars(text.data(), text.data() + nl, c.next);
  text.remove_prefix(nl + 1);
  while (!text.empty()) {
    std::uint64_t id = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc{}) return std::nullopt;
    c.parents.push_back(id);
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    if (!text.empty()) text.remove_prefix(1);  // the comma
  }
  return c;
}

struct Resumable {
  WooCommerceApi& api;
  std::size_t concurrency;
  WooIdIndex& index;
  const PushContext& context;
  WalkStats& stats;
};

void stop_if_asked(const PushContext& context) {
  if (context.stop_requested())
    throw StoreError("stopped during the WooCommerce catalogue walk (it resumes on the next run)",
                     StoreError::Retry::no);
}

// Commits `found` with `at` as the checkpoint, on the pool, and shows the progress.
boost::asio::awaitable<void> commit(Resumable& w, SkuTargets& found, const WooCheckpoint& at) {
  const auto checkpoint = encode_checkpoint(at);
  co_await async::offload(w.context.pool, [&] {
    w.index.walk_step(found, checkpoint);
    found = {};
  });
  if (w.context.progress) w.context.progress->mapping(w.stats.products + w.stats.variations, 0);
}

// Product pages from c.next on, a wave at a time; the variable products go into c.parents.
boost::asio::awaitable<void> walk_products(Resumable& w, WooCheckpoint& c) {
  SkuTargets found;
  std::vector<std::uint64_t> parents;
  WalkState state{w.api, found, parents, w.stats};
  std::optional<std::size_t> total;
  for (bool more = true; more;) {
    stop_if_asked(w.context);
    const auto first = c.next;
    const auto query = page_query(first, kProductFields);
    const auto reply = co_await w.api.get(kProducts, query);
    ++w.stats.requests;
    const auto count = read_products_page(reply.body, found, &parents);
    w.stats.products += count;
    total = reply.total_pages;
    std::size_t last = first;
    if (total) {
      last = std::min(*total, first + w.concurrency * kPagesPerWave - 1);
      const async::IndexedTask task = [&state, first](std::size_t i) {
        return fetch_products_page(state, first + 1 + i);
      };
      co_await async::for_each_bounded(last > first ? last - first : 0, w.concurrency, task);
      more = last < *total;
    } else {
      more = more_pages(reply, first, count);
    }
    c.parents.insert(c.parents.end(), parents.begin(), parents.end());
    parents.clear();
    c.next = last + 1;
    co_await commit(w, found, c);
  }
}

// The variations of c.parents from index c.next - 1 on, a wave at a time.
boost::asio::awaitable<void> walk_variations(Resumable& w, WooCheckpoint& c) {
  std::sort(c.parents.begin(), c.parents.end());
  c.parents.erase(std::unique(c.parents.begin(), c.parents.end()), c.parents.end());
  SkuTargets found;
  const std::size_t wave = w.concurrency * kPagesPerWave;
  for (std::size_t from = c.next - 1; from < c.parents.size(); from += wave) {
    stop_if_asked(w.context);
    const auto to = std::min(c.parents.size(), from + wave);
    const async::IndexedTask task = [&](std::size_t i) {
      return fetch_variations(w.api, c.parents[from + i], found, w.stats);
    };
    co_await async::for_each_bounded(to - from, w.concurrency, task);
    c.next = to + 1;
    co_await commit(w, found, c);
  }
}

}  // namespace

std::size_t read_products_page(const json::value& page, SkuTargets& out,
                               std::vector<std::uint64_t>* parents) {
  const auto& items = as_page(page);
  for (const auto& item : items) {
    if (!item.is_object()) continue;
    const auto& object = item.get_object();
    const auto id = id_of(object, "id");
    if (id == 0) continue;
    if (auto sku = sku_of(object); !sku.empty())
      add_target(out[std::move(sku)], WooTarget{id_of(object, "parent_id"), id});
    if (parents == nullptr) continue;
    const auto* type = object.if_contains("type");
    if (type == nullptr || !type->is_string() || type->get_string() != "variable") continue;
    // The product lists its variation ids: none means no page to ask for.
    const auto* variations = object.if_contains("variations");
    if (variations != nullptr && variations->is_array() && variations->get_array().empty())
      continue;
    parents->push_back(id);
  }
  return items.size();
}

std::size_t read_variations_page(const json::value& page, std::uint64_t parent, SkuTargets& out) {
  const auto& items = as_page(page);
  for (const auto& item : items) {
    if (!item.is_object()) continue;
    const auto& object = item.get_object();
    const auto id = id_of(object, "id");
    auto sku = sku_of(object);
    if (id == 0 || sku.empty()) continue;
    add_target(out[std::move(sku)], WooTarget{parent, id});
  }
  return items.size();
}

std::vector<std::string> sku_query_values(const std::vector<std::string>& skus) {
  // WordPress splits the parameter at commas after decoding it.
  return sku_lists(skus, ",", kMaxSkusPerQuery, kMaxSkuQueryChars);
}

boost::asio::awaitable<SkuTargets> walk_catalogue(WooCommerceApi& api, std::size_t concurrency,
                                                  WalkStats& stats) {
  SkuTargets out;
  std::vector<std::uint64_t> parents;
  WalkState state{api, out, parents, stats};

  // The first page says how many there are; the rest go in parallel.
  const auto first_query = page_query(1, kProductFields);
  const auto first = co_await api.get(kProducts, first_query);
  ++stats.requests;
  const auto first_count = read_products_page(first.body, out, &parents);
  stats.products += first_count;
  if (first.total_pages) {
    const auto pages = *first.total_pages;
    const async::IndexedTask task = [&state](std::size_t i) {
      return fetch_products_page(state, i + 2);
    };
    co_await async::for_each_bounded(pages > 1 ? pages - 1 : 0, concurrency, task);
  } else {
    WooReply none;
    for (std::size_t page = 1, count = first_count; more_pages(none, page, count); ++page) {
      const auto before = stats.products;
      co_await fetch_products_page(state, page + 1);
      count = stats.products - before;
    }
  }

  std::sort(parents.begin(), parents.end());
  parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
  const async::IndexedTask task = [&](std::size_t i) {
    return fetch_variations(api, parents[i], out, stats);
  };
  co_await async::for_each_bounded(parents.size(), concurrency, task);
  sort_targets(out);
  co_return out;
}

boost::asio::awaitable<void> walk_catalogue_into(WooCommerceApi& api, std::size_t concurrency,
                                                 WooIdIndex& index, const PushContext& context,
                                                 WalkStats& stats) {
  Resumable w{api, std::max<std::size_t>(1, concurrency), index, context, stats};
  auto read = [&index] { return index.walk_checkpoint(); };
  const auto recorded = co_await async::offload(context.pool, read);
  auto c = recorded ? decode_checkpoint(*recorded) : std::nullopt;
  if (!c) {
    c = WooCheckpoint{};
    const auto start = encode_checkpoint(*c);
    co_await async::offload(context.pool, [&] { index.begin_walk(start); });
  }
  if (!c->variations) {
    co_await walk_products(w, *c);
    c->variations = true;
    c->next = 1;
  }
  co_await walk_variations(w, *c);
  co_await async::offload(context.pool, [&] { index.finish_walk(now_millis()); });
  if (context.progress) context.progress->mapping_done();
}

boost::asio::awaitable<SkuTargets> find_products(WooCommerceApi& api,
                                                 const std::vector<std::string>& skus,
                                                 std::size_t concurrency) {
  SkuTargets out;
  const auto values = sku_query_values(skus);
  const std::unordered_set<std::string> wanted(skus.begin(), skus.end());
  const async::IndexedTask task = [&](std::size_t i) {
    return fetch_by_sku(api, values[i], wanted, out);
  };
  co_await async::for_each_bounded(values.size(), concurrency, task);
  sort_targets(out);
  co_return out;
}

boost::asio::awaitable<SkuTargets> find_variations(WooCommerceApi& api,
                                                   const std::vector<std::uint64_t>& parents,
                                                   std::size_t concurrency) {
  SkuTargets out;
  WalkStats stats;
  const async::IndexedTask task = [&](std::size_t i) {
    return fetch_variations(api, parents[i], out, stats);
  };
  co_await async::for_each_bounded(parents.size(), concurrency, task);
  sort_targets(out);
  co_return out;
}

}  // namespace pb::connectors
