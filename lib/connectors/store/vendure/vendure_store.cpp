// How the SKU -> variant ids map stays right, and what it costs (the bounds):
// - prepare() pages productVariants (id and sku only, 1,000 a page, sorted by id) when no
//   complete walk is on record for this URL, channel and location, or the last one is older
//   than `catalogue_refresh` (default 24h; if that re-walk fails, the old map is used). A first
//   walk is committed a page at a time with its checkpoint (run_resumable_walk): a stop, a
//   failure or a kill does not send the next run back to the first page.
// - A SKU the map does not know (added since the walk) is asked for with productVariants
//   filter sku in [...] (100 SKUs a call). Still unknown: rejected, and marked in the map as
//   not in the store, so that later pushes reject it at once, with no request, until the next
//   walk replaces the map (the marks survive a restart).
// - A variant Vendure no longer has (ENTITY_NOT_FOUND once isolated) is rejected and its SKU
//   dropped from the map, so that the next push looks it up again.
// A SKU carried by several variants is confirmed only when all of them took the quantity.
#include "connectors/store/vendure/vendure_store.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <span>
#include <utility>

#include <fmt/format.h>

#include "async/offload.hpp"
#include "connectors/secret_file.hpp"
#include "connectors/store/catalogue_refresh.hpp"
#include "connectors/store/memory_store_id_cache.hpp"
#include "connectors/store/refusal_isolation.hpp"
#include "connectors/store/resumable_walk.hpp"
#include "connectors/store/vendure/vendure_client.hpp"
#include "connectors/store/vendure/vendure_graphql.hpp"
#include "connectors/store/vendure/vendure_id_index.hpp"
#include "log/log.hpp"
#include "net/url.hpp"

namespace pb::connectors {

namespace vendure {

// One variant of one batch item to update.
struct Target {
  std::size_t item = 0;
  std::string id;
};

// One push's working state, by position in the batch.
struct PushWork {
  explicit PushWork(const std::vector<PushItem>& items)
      : batch(items), settled(items.size()), ids(items.size()) {}

  std::vector<PushResult> verdicts() {
    std::vector<PushResult> results;
    results.reserve(batch.size());
    for (auto& s : settled) results.push_back(s ? std::move(*s) : PushResult{});
    return results;
  }

  const std::vector<PushItem>& batch;
  std::vector<std::optional<PushResult>> settled;  // unset: confirmed
  std::vector<std::vector<std::string>> ids;
  std::vector<std::string> stale;  // SKUs with a variant id Vendure no longer has
};

}  // namespace vendure

namespace {

namespace asio = boost::asio;
using namespace vendure;

// A walk's position: a skip. Junk (never written by this connector) begins again.
std::size_t parse_skip(const std::string& position) {
  std::size_t skip = 0;
  const auto* end = position.data() + position.size();
  const auto [stopped, error] = std::from_chars(position.data(), end, skip);
  return error == std::errc{} && stopped == end ? skip : 0;
}

std::string not_in_catalogue_message(UnixMillis walked_at) {
  return "SKU not in the Vendure catalogue (no variant has it, as of the walk at " +
         format_time(walked_at) + "); it is looked up again after the next catalogue refresh";
}

}  // namespace

VendureStore::VendureStore(config::VendureStoreConfig config, const StoreDeps& deps)
    : VendureStore(std::move(config), deps, nullptr) {}

VendureStore::VendureStore(config::VendureStoreConfig config, const StoreDeps& deps,
                           std::shared_ptr<net::HttpSession> session)
    : config_(std::move(config)),
      io_(deps.io),
      connection_(deps.connection),
      session_(std::move(session)),
      exchanges_(deps.exchanges),
      // Another server, channel or location empties the map: its ids mean other variants.
      index_(std::make_unique<IdIndex>(
          open_id_cache(deps.id_caches, "vendure " + config_.url + " " + config_.channel_token +
                                            " " + config_.stock_location_id))) {}

VendureStore::~VendureStore() = default;

std::size_t VendureStore::max_batch() const {
  return kVariantsPerCall * 4;
}

std::string VendureStore::describe() const {
  return "vendure " + config_.url;
}

std::chrono::milliseconds VendureStore::refresh_after() const {
  return config_.catalogue_refresh.value_or(config::kDefaultCatalogueRefresh);
}

asio::awaitable<void> VendureStore::prepare(PushContext context) {
  Credentials credentials;
  try {
    credentials = co_await async::offload(context.pool, [this] {
      Credentials c;
      c.username = config_.username;
      c.password_file = config_.password_file;
      c.api_key_file = config_.api_key_file;
      if (!config_.api_key_file.empty())
        c.api_key = read_secret_file(config_.api_key_file, "api_key_file");
      else
        c.password = read_secret_file(config_.password_file, "password_file");
      return c;
    });
    if (!client_) {
      const auto url = net::Url::parse(config_.url);
      if (!session_) {
        net::ClientOptions options;
        options.ca_file = config_.ca_file;
        // One call at a time: each is a transaction on the same rows' stock levels.
        options.max_in_flight = 1;
        session_ = net::observe(net::make_http_session(io_, url, std::move(options)), exchanges_);
      }
      auto target = url.path.empty() ? std::string("/") : url.path;
      client_ = std::make_unique<Client>(session_, std::move(target), config_.channel_token,
                                         net::RetryOptions{});
    }
  } catch (const std::exception& e) {
    throw StoreError(describe() + ": " + e.what(), StoreError::Retry::no);
  }
  client_->set_credentials(std::move(credentials));

  const auto walked_at = co_await async::offload(
      context.pool, [this] { return index_->complete() ? index_->walked_at() : UnixMillis{0}; });
  if (catalogue_is_fresh(walked_at, refresh_after())) co_return;
  std::string failure;
  try {
    co_await walk(context, walked_at);
  } catch (const CredentialsRefused&) {
    throw;
  } catch (const StoreError& e) {
    failure = e.what();
  }
  if (!failure.empty()) keep_old_map_or_fail(describe(), connection_, walked_at, failure);
}

// A refresh of a complete map walks into memory and replaces the map at the end, so that the old
// map serves until the new one is whole (and if the walk fails); a first walk (or one a stop or a
// kill cut short) is written a page at a time, and goes on from its checkpoint.
asio::awaitable<void> VendureStore::walk(const PushContext& context, UnixMillis walked_at) {
  if (walked_at == 0) {
    co_await resumable_walk(context);
    co_return;
  }
  const auto started = std::chrono::steady_clock::now();
  SkuVariants found;
  std::size_t variants = 0;
  std::size_t pages = 0;
  for (std::size_t skip = 0;; skip += kPageSize) {
    const auto page = co_await read_page(skip);
    ++pages;
    add_variants(found, page.variants);
    variants += page.returned;
    // An empty page ends the walk even if totalItems promised more (variants deleted meanwhile).
    if (page.returned == 0 || skip + kPageSize >= page.total) break;
  }
  const auto skus = found.size();
  co_await async::offload(context.pool, [&] {
    index_->replace_all(found, now_millis());
    found = {};  // a big map is freed here, not on the loop
  });
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  const log::Fields fields{.connection = connection_};
  log::info(fields, "{}: catalogue walk: {} SKUs on {} variants, {} requests in {:.1f} s",
            describe(), skus, variants, pages, took.count());
}

asio::awaitable<void> VendureStore::resumable_walk(const PushContext& context) {
  const auto started = std::chrono::steady_clock::now();
  const log::Fields fields{.connection = connection_};
  std::size_t pages = 0;
  std::optional<std::size_t> started_at;  // the skip this run began at
  ResumableWalk plan;
  plan.kind = "vendure-variants";
  plan.first_position = "0";
  plan.platform = "Vendure";
  plan.read_page = [&](const std::string& position) {
    const auto skip = parse_skip(position);
    if (!started_at && skip > 0)
      log::info(fields, "{}: the catalogue walk goes on from variant {} (its checkpoint)",
                describe(), skip);
    if (!started_at) started_at = skip;
    return walk_step(skip, pages);
  };
  // Vendure does not make SKUs unique: a SKU's variants may span two pages.
  plan.merge = merge_with_cached;
  const auto result = co_await run_resumable_walk(index_->cache(), context, plan);
  const auto skus =
      co_await async::offload(context.pool, [this] { return index_->cache().size(); });
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  std::string resumed;
  if (result.resumed)
    resumed = fmt::format(" (resumed from its checkpoint at variant {})", started_at.value_or(0));
  log::info(fields, "{}: catalogue walk: {} SKUs on {} variants, {} requests in {:.1f} s{}",
            describe(), skus, result.listed, pages, took.count(), resumed);
}

asio::awaitable<WalkPage> VendureStore::walk_step(std::size_t skip, std::size_t& pages) {
  const auto page = co_await read_page(skip);
  ++pages;
  SkuVariants found;
  add_variants(found, page.variants);
  WalkPage step;
  step.entries = walk_entries(found);
  step.listed = page.returned;
  step.total = page.total;
  // An empty page ends the walk even if totalItems promised more (variants deleted meanwhile).
  if (page.returned > 0 && skip + kPageSize < page.total)
    step.next = std::to_string(skip + kPageSize);
  co_return step;
}

asio::awaitable<VariantPage> VendureStore::read_page(std::size_t skip) {
  const auto body = variants_page_body(skip, kPageSize);
  const auto answer = co_await client_->call(body, "productVariants");
  if (const auto error = classify_errors(answer); error.kind != ErrorClass::none)
    throw StoreError("productVariants: " + client_->redact(error.message) + " (" + error.code + ")",
                     StoreError::Retry::no);
  auto page = read_variants(answer);
  if (!page)
    throw StoreError("productVariants: the answer has no items and totalItems",
                     StoreError::Retry::no);
  co_return std::move(*page);
}

asio::awaitable<std::vector<PushResult>> VendureStore::push(std::vector<PushItem> batch,
                                                            PushContext context) {
  if (!client_) co_await prepare(context);
  PushWork work(batch);
  co_await resolve(context, work);
  co_await send(context, work);
  if (!work.stale.empty())
    co_await async::offload(context.pool, [&] { index_->erase(work.stale); });
  co_return work.verdicts();
}

// Each item's variant ids from the map; SKUs the map does not know are looked up by SKU.
asio::awaitable<void> VendureStore::resolve(const PushContext& context, PushWork& work) {
  std::vector<std::size_t> unknown;
  co_await async::offload(context.pool, [&] {
    std::vector<std::string> skus;
    skus.reserve(work.batch.size());
    for (const auto& item : work.batch) skus.push_back(item.sku);
    auto found = index_->find(skus);
    const auto walked_at = index_->walked_at();
    for (std::size_t i = 0; i < found.size(); ++i) {
      if (!found[i])
        unknown.push_back(i);
      else if (found[i]->empty())
        work.settled[i] = PushResult{PushOutcome::rejected, not_in_catalogue_message(walked_at)};
      else
        work.ids[i] = std::move(*found[i]);
    }
  });
  if (unknown.empty()) co_return;

  SkuVariants looked_up;
  for (std::size_t from = 0; from < unknown.size(); from += kLookupSize) {
    std::vector<std::string> skus;
    for (std::size_t k = from; k < std::min(unknown.size(), from + kLookupSize); ++k)
      skus.push_back(work.batch[unknown[k]].sku);
    const auto body = variants_by_sku_body(skus);
    const auto answer = co_await client_->call(body, "productVariants by SKU");
    const auto error = classify_errors(answer);
    const auto page = read_variants(answer);
    if (error.kind != ErrorClass::none || !page)
      throw StoreError("productVariants by SKU: " + client_->redact(error.message),
                       StoreError::Retry::no);
    add_variants(looked_up, page->variants);
  }
  std::vector<std::string> missing;
  for (const auto i : unknown) {
    const auto it = looked_up.find(work.batch[i].sku);
    if (it != looked_up.end()) {
      work.ids[i] = it->second;
    } else {
      missing.push_back(work.batch[i].sku);
      work.settled[i] = PushResult{PushOutcome::rejected,
                                   "SKU not in the Vendure catalogue: no variant has it (looked "
                                   "up by SKU); it is looked up again after the next catalogue "
                                   "refresh"};
    }
  }
  co_await async::offload(context.pool, [&] {
    index_->put(looked_up);
    index_->put_not_in_store(missing);
  });
}

// Sends every variant's quantity, kVariantsPerCall a call; a refused call is bisected until
// the refused variants stand alone, and the rest are confirmed.
asio::awaitable<void> VendureStore::send(const PushContext& context, PushWork& work) {
  (void)context;
  std::vector<Target> targets;
  for (std::size_t i = 0; i < work.batch.size(); ++i)
    for (const auto& id : work.ids[i]) targets.push_back(Target{i, id});
  IsolationStats stats;
  const auto send_part = [&](std::span<const Target> part) -> asio::awaitable<WholeBatchVerdict> {
    std::vector<StockUpdate> updates;
    updates.reserve(part.size());
    for (const auto& t : part) updates.push_back(StockUpdate{t.id, work.batch[t.item].quantity});
    const auto body = update_stock_body(updates, config_.stock_location_id);
    const auto answer = co_await client_->call(body, "updateProductVariants");
    const auto error = classify_errors(answer);
    if (error.kind == ErrorClass::none) co_return WholeBatchVerdict::taken();
    if (part.size() == 1 && error.code == "ENTITY_NOT_FOUND")
      work.stale.push_back(work.batch[part.front().item].sku);
    auto said = "variant " + part.front().id +
                ": Vendure refused the update: " + client_->redact(error.message) +
                (error.code.empty() ? "" : " (" + error.code + ")");
    co_return WholeBatchVerdict::refused(std::move(said));
  };
  const std::span<const Target> all(targets);
  for (std::size_t from = 0; from < all.size(); from += kVariantsPerCall) {
    const auto part = all.subspan(from, std::min(kVariantsPerCall, all.size() - from));
    const auto results = co_await push_isolating_refusals(part, send_part, &stats);
    for (std::size_t k = 0; k < part.size(); ++k) {
      auto& settled = work.settled[part[k].item];
      if (results[k].outcome != PushOutcome::confirmed && !settled) settled = results[k];
    }
  }
  if (stats.refused_calls > 0) {
    const log::Fields fields{.connection = connection_};
    log::info(fields,
              "{}: {} of {} updateProductVariants calls refused while isolating refused "
              "variants",
              describe(), stats.refused_calls, stats.calls);
  }
}

}  // namespace pb::connectors
