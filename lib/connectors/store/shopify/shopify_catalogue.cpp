#include "connectors/store/shopify/shopify_catalogue.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <unordered_set>

#include "async/offload.hpp"
#include "connectors/store/shopify/shopify_graphql.hpp"
#include "log/log.hpp"

namespace pb::connectors::shopify {
namespace {

namespace asio = boost::asio;

constexpr std::size_t kLogEveryPages = 10;
constexpr std::string_view kPagesWord = "items ";
constexpr std::string_view kOldPagesWord = "pages ";  // productVariants cursors: start again
constexpr std::string_view kBulkWord = "bulk";

// Adds `id` to the SKU's list unless a page seen before listed it already.
void add(std::unordered_map<std::string, ItemIds>& map, std::string sku, std::string id) {
  auto& ids = map[std::move(sku)];
  if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
}

VariantsPage read_page(const Reply& reply) {
  try {
    return read_items_page(reply.data);
  } catch (const std::runtime_error& e) {
    throw StoreError(e.what(), StoreError::Retry::no);
  }
}

}  // namespace

void stop_if_asked(const Walk& walk) {
  if (walk.context.stop_requested())
    throw StoreError("stopped during the Shopify catalogue walk (it resumes on the next run)",
                     StoreError::Retry::no);
}

asio::awaitable<void> commit_step(Walk& walk, std::vector<VariantItem> items,
                                  std::string checkpoint) {
  auto step = [&walk, &items, &checkpoint] {
    std::vector<std::pair<std::string, std::string>> pairs;
    pairs.reserve(items.size());
    for (auto& v : items) pairs.emplace_back(std::move(v.sku), std::move(v.inventory_item_id));
    items = {};
    walk.map.walk_step(pairs, checkpoint);
  };
  co_await async::offload(walk.context.pool, step);
}

asio::awaitable<void> walk_pages(Walk& walk, std::string cursor) {
  const auto start = std::chrono::steady_clock::now();
  const auto points_before = walk.client.stats().points;
  if (cursor.empty()) {
    auto begin = [&walk] { walk.map.begin_walk(std::string(kPagesWord)); };
    co_await async::offload(walk.context.pool, begin);
  } else {
    pb::log::info(walk.fields, "Shopify catalogue walk: resuming after cursor {}", cursor);
  }
  std::size_t pages = 0, variants = 0;
  for (;;) {
    stop_if_asked(walk);
    auto body = request_body(kItemsPageQuery, items_page_variables(cursor));
    const auto reply = co_await walk.client.call(CallKind::catalogue_page, std::move(body));
    auto page = read_page(reply);
    ++pages;
    variants += page.variants.size();
    if (page.has_next_page && page.end_cursor == cursor)
      throw StoreError(
          "Shopify catalogue walk: the same page came back twice (cursor " + cursor + ")",
          StoreError::Retry::no);
    // The page and the cursor after it in one transaction: a kill loses at most this page.
    const std::string next = page.has_next_page ? page.end_cursor : cursor;
    std::string checkpoint = std::string(kPagesWord) + next;
    co_await commit_step(walk, std::move(page.variants), std::move(checkpoint));
    if (walk.context.progress) walk.context.progress->mapping(variants, 0);
    if (pages % kLogEveryPages == 0)
      pb::log::info(walk.fields, "Shopify catalogue walk: {} items read in {} pages", variants,
                    pages);
    if (!page.has_next_page) break;
    cursor = next;
  }
  auto finish = [&walk] { walk.map.finish_walk(); };
  co_await async::offload(walk.context.pool, finish);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  pb::log::info(walk.fields,
                "Shopify catalogue walk done: {} items in {} pages, {:.0f} cost points, {:.1f} s",
                variants, pages, walk.client.stats().points - points_before, seconds);
}

asio::awaitable<void> walk_catalogue(Walk& walk) {
  auto read_checkpoint = [&walk] { return walk.map.walk_checkpoint(); };
  const auto checkpoint = co_await async::offload(walk.context.pool, read_checkpoint);
  struct Done {
    MappingProgress* progress;
    ~Done() {
      if (progress) progress->mapping_done();
    }
  } done{walk.context.progress};
  if (checkpoint && checkpoint->rfind(kPagesWord, 0) == 0) {
    // A paged walk was chosen before (a bulk operation could not serve): it goes on.
    std::string cursor = checkpoint->substr(kPagesWord.size());
    co_await walk_pages(walk, std::move(cursor));
    co_return;
  }
  if (checkpoint && checkpoint->rfind(kOldPagesWord, 0) == 0) {
    pb::log::info(walk.fields,
                  "Shopify catalogue walk: the stored checkpoint is a productVariants cursor; "
                  "walking inventory items from the first page");
    std::string first_page;
    co_await walk_pages(walk, std::move(first_page));
    co_return;
  }
  if (walk.result_sessions) {
    const bool resumed = checkpoint && checkpoint->rfind(kBulkWord, 0) == 0;
    // Named lvalues as coroutine arguments: g++ 12 frees a temporary one twice.
    const std::string from = resumed ? *checkpoint : std::string();
    if (co_await walk_bulk(walk, from)) co_return;
  }
  std::string first_page;
  co_await walk_pages(walk, std::move(first_page));
}

asio::awaitable<std::unordered_map<std::string, ItemIds>> find_skus(GraphqlClient& client,
                                                                    std::vector<std::string> skus) {
  std::unordered_map<std::string, ItemIds> found;
  for (const auto& group : sku_search_batches(skus, kSkusPerSearch, kMaxSearchChars)) {
    const std::unordered_set<std::string> wanted(group.begin(), group.end());
    const auto query = sku_search_query(group);
    std::string cursor;
    for (std::size_t page_number = 0; page_number < kPagesPerSearch; ++page_number) {
      auto body =
          request_body(kItemsSearchQuery, items_search_variables(query, group.size(), cursor));
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
