// Finding inventory item ids by SKU in a Shopify catalogue: by walking every
// variant (a bulk operation, or pages when one cannot serve), written into the
// id map as it goes so that a stopped or killed walk resumes where it stood, and
// for SKUs the map lacks by a search query over a bounded number of SKUs.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "connectors/store/shopify/shopify_client.hpp"
#include "connectors/store/shopify/shopify_id_map.hpp"
#include "connectors/store/store.hpp"
#include "log/fields.hpp"
#include "net/http_session.hpp"

namespace pb::connectors::shopify {

// SKUs per search query: sku:"A" OR sku:"B" ... of 50 terms keeps the requested
// cost low (inventoryItems(first: 50): 2 + 50 = 52 points). Shopify documents
// no limit on a search query's length or number of terms (shopify.dev "Shopify
// API search syntax"; none found elsewhere either), so the text bound is ours:
// 4,096 characters holds 50 SKUs of up to ~70 characters, and splits a group
// of longer ones (a SKU may have 255) rather than sending one huge query.
inline constexpr std::size_t kSkusPerSearch = 50;
inline constexpr std::size_t kMaxSearchChars = 4096;
// Pages read per search group: enough for every SKU of the group on several
// variants (4 x 50 nodes), a bound on a search that matches more than it should.
inline constexpr std::size_t kPagesPerSearch = 4;

// Opens a session to the host of a bulk operation's result (not the shop's).
using ResultSessions = std::function<std::shared_ptr<net::HttpSession>(const net::Url&)>;

// What a walk works with. Its checkpoints (StoreIdCache) are "items <cursor>"
// for a paged walk and "bulk" / "bulk <operation gid> <bytes read>" for a bulk
// one. "pages <cursor>" was the paged walk over productVariants: its cursor
// means nothing to inventoryItems, so such a walk starts again.
struct Walk {
  GraphqlClient& client;
  IdMap& map;
  const PushContext& context;  // the pool, the run's progress sink and stop flag
  log::Fields fields;
  ResultSessions result_sessions;  // none: no bulk operation (tests with a scripted session)
};

// Walks the catalogue into the map unless it is complete: resumes the walk in
// progress, else starts a bulk operation, and pages through inventoryItems when
// one cannot serve (the scope is denied, it failed). Throws StoreError, also when
// the run is told to stop (the walk resumes on the next run).
boost::asio::awaitable<void> walk_catalogue(Walk& walk);

// Pages through inventoryItems from the walk's checkpoint (`cursor`, "" for
// the first page), 250 at a time, committing each page with its cursor.
boost::asio::awaitable<void> walk_pages(Walk& walk, std::string cursor);

// The bulk walk: resumes the operation of `checkpoint` ("bulk ...") or starts
// one, waits for it, and streams its result into the map. Returns false when a
// bulk operation cannot serve (the caller pages instead), having logged why.
boost::asio::awaitable<bool> walk_bulk(Walk& walk, const std::string& checkpoint);

// Throws StoreError (Retry::no) when the run is to stop.
void stop_if_asked(const Walk& walk);
// Commits `items` with `checkpoint` on the pool.
boost::asio::awaitable<void> commit_step(Walk& walk, std::vector<VariantItem> items,
                                         std::string checkpoint);

// Searches for `skus` (sku_search_batches: kSkusPerSearch and kMaxSearchChars
// a query) and returns those found, each
// with its inventory item ids. Only exact matches count: Shopify's search is
// case-insensitive, the mapping is not.
boost::asio::awaitable<std::unordered_map<std::string, ItemIds>> find_skus(
    GraphqlClient& client, std::vector<std::string> skus);

}  // namespace pb::connectors::shopify
