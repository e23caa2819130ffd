// How the SKU map stays right, and what it costs:
// - prepare() walks GET /v3/inventory/items (1,000 a page: a 100,000-SKU store is 100
//   requests) when no complete walk is on record for this endpoint, store and location, or the
//   last one is older than catalogue_refresh (default 24h; if that re-walk fails, the old map
//   is used). The map holds SKU -> "v<variant_id>" | "p<product_id>". A first walk commits
//   each page with its checkpoint (run_resumable_walk): a stop, a failure or a kill costs the
//   page in flight, and `beectl pause` or SIGTERM ends it between two pages.
// - A SKU the map does not know (added to the store since the walk) is asked for with
//   sku:in (50 SKUs a request, at most kLookupsPerRun requests a run). Still unknown: rejected
//   unsent, and marked "-" in the map, so that later pushes reject it at once with no request until
//   the next walk replaces the map (the marks survive a restart, as the map lives in LMDB).
// - An adjustment fails whole with a 422 that names no item; push_isolating_refusals splits
//   it until each refused SKU stands alone, and the rest is applied. The refused SKUs are then
//   looked up once more: those the store no longer has are marked "-" like unknown ones.
#include "connectors/store/bigcommerce/bigcommerce_store.hpp"

#include <chrono>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "async/offload.hpp"
#include "connectors/secret_file.hpp"
#include "connectors/store/bigcommerce/bigcommerce_catalogue.hpp"
#include "connectors/store/bigcommerce/bigcommerce_client.hpp"
#include "connectors/store/bigcommerce/bigcommerce_json.hpp"
#include "connectors/store/catalogue_refresh.hpp"
#include "connectors/store/memory_store_id_cache.hpp"
#include "connectors/store/resumable_walk.hpp"
#include "log/log.hpp"
#include "net/exchange_observer.hpp"
#include "net/url.hpp"

namespace pb::connectors {
namespace {

namespace asio = boost::asio;
using bigcommerce::SkuIds;

// Not an id the walk writes ("v12", "p7"): the SKU is not in the store as of the last walk.
constexpr std::string_view kNotInStore = "-";

std::shared_ptr<net::HttpSession> open_session(const asio::any_io_executor& io,
                                               const config::BigCommerceStoreConfig& c) {
  net::ClientOptions options;
  options.ca_file = c.ca_file;  // added to the system store; names and chains are verified
  options.max_in_flight = 1;    // one request at a time: the store's quota is the limit
  return net::make_http_session(io, net::Url::parse(c.endpoint), options);
}

std::string api_root_of(const config::BigCommerceStoreConfig& c) {
  return net::Url::parse(c.endpoint).path + "/stores/" + c.store_hash + "/v3";
}

std::string not_in_store_message(UnixMillis walked_at) {
  return "SKU not in the BigCommerce store: no inventory item has it (catalogue walk of " +
         format_time(walked_at) +
         ", and a lookup by SKU); not sent again until the next "
         "catalogue refresh";
}

std::string not_in_walk_message(UnixMillis walked_at) {
  return "SKU not in the BigCommerce store as of the catalogue walk of " + format_time(walked_at) +
         " (not looked up: this run's lookups are used up); not sent "
         "until the next catalogue refresh";
}

}  // namespace

// One push's working state, by position in the batch.
struct BigCommerceStore::Work {
  explicit Work(std::vector<PushItem> items) : batch(std::move(items)), verdicts(batch.size()) {}

  std::vector<PushItem> batch;
  std::vector<std::optional<PushResult>> verdicts;  // settled before any adjustment
  std::vector<std::size_t> unknown;                 // not in the map: to look up
  UnixMillis walked_at = 0;
};

BigCommerceStore::BigCommerceStore(config::BigCommerceStoreConfig config, const StoreDeps& deps)
    : BigCommerceStore(config, deps, net::observe(open_session(deps.io, config), deps.exchanges)) {}

BigCommerceStore::BigCommerceStore(config::BigCommerceStoreConfig config, const StoreDeps& deps,
                                   std::shared_ptr<net::HttpSession> session,
                                   net::RetryOptions retry)
    : config_(std::move(config)),
      connection_(deps.connection),
      client_(std::make_unique<bigcommerce::Client>(std::move(session), api_root_of(config_),
                                                    config_.access_token_file, retry)),
      // The endpoint, store and location say which catalogue the map is of.
      ids_(open_id_cache(deps.id_caches, fmt::format("bigcommerce {} {} {}", config_.endpoint,
                                                     config_.store_hash, config_.location_id))) {}

BigCommerceStore::~BigCommerceStore() = default;

std::string BigCommerceStore::describe() const {
  return fmt::format("bigcommerce store {} location {}", config_.store_hash, config_.location_id);
}

const bigcommerce::ClientStats& BigCommerceStore::stats() const {
  return client_->stats();
}

asio::awaitable<void> BigCommerceStore::prepare(PushContext context) {
  std::string token;
  try {
    auto read_token = [this] {
      return read_secret_file(config_.access_token_file, "BigCommerce access_token_file");
    };
    token = co_await async::offload(context.pool, read_token);
  } catch (const std::exception& e) {
    throw StoreError(e.what(), StoreError::Retry::no);  // names the file, never its content
  }
  client_->set_access_token(std::move(token));
  refused_.reset();
  lookups_left_ = kLookupsPerRun;

  auto walked = [this] { return ids_->complete() ? ids_->completed_at() : UnixMillis{0}; };
  const UnixMillis walked_at = co_await async::offload(context.pool, walked);
  const auto refresh = config_.catalogue_refresh.value_or(config::kDefaultCatalogueRefresh);
  prepared_ = true;
  if (catalogue_is_fresh(walked_at, refresh)) co_return;
  // The walk's quota waits end at a stop; a push's run their course, as before (the engine
  // stops between batches).
  struct StopDuringWalk {
    bigcommerce::Client& client;
    ~StopDuringWalk() { client.set_stop(nullptr); }
  } stop_during_walk{*client_};
  client_->set_stop(context.stop);
  try {
    co_await walk(context);
  } catch (const bigcommerce::TokenRefused& e) {
    // Thrown by the first push instead, so that the SKUs carry the message, as when the token
    // is refused during a push.
    refused_ = e.what();
  } catch (const StoreError& e) {
    if (context.stop_requested()) throw;  // a stop, not a failure: the run ends here
    keep_old_map_or_fail(describe(), connection_, walked_at, e.what());
  }
}

// A first walk (or one a stop, a failure or a kill cut short) is written as it goes and goes on
// from its checkpoint; a refresh of a complete map walks into memory, so that the old map serves
// until the new one is whole (and if the walk fails).
asio::awaitable<void> BigCommerceStore::walk(const PushContext& context) {
  const auto started = std::chrono::steady_clock::now();
  bigcommerce::WalkStats stats;
  const bool complete = co_await async::offload(context.pool, [this] { return ids_->complete(); });
  const ResumableWalk pages{std::string(bigcommerce::kWalkKind), "1", "BigCommerce",
                            [this, &stats](const std::string& position) {
                              return bigcommerce::read_walk_page(*client_, position, stats);
                            },
                            nullptr};
  std::size_t skus = 0;
  std::string resumed;
  if (!complete) {
    const auto checkpoint = co_await async::offload(context.pool, [this] {
      const auto text = ids_->walk_checkpoint();
      return text ? decode_walk_checkpoint(bigcommerce::kWalkKind, *text) : std::nullopt;
    });
    const log::Fields fields{.connection = connection_};
    if (checkpoint && checkpoint->listed > 0) {  // not a walk killed before its first page
      resumed = fmt::format(" (resumed at page {}, after {} items listed by an earlier run)",
                            checkpoint->position, checkpoint->listed);
      log::info(fields, "{}: resuming the catalogue walk at page {} ({} items listed before)",
                describe(), checkpoint->position, checkpoint->listed);
    }
    co_await run_resumable_walk(*ids_, context, pages);
    skus = co_await async::offload(context.pool, [this] { return ids_->size(); });
  } else {
    auto found = co_await read_walk_whole(context, pages);
    skus = found.size();
    co_await async::offload(context.pool, [&] {
      ids_->replace_all(std::move(found), now_millis());  // freed on the pool, not on the loop
    });
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  log::info(log::Fields{.connection = connection_},
            "{}: catalogue walk: {} SKUs on {} inventory items, {} pages in {:.1f} s{}", describe(),
            skus, stats.items, stats.pages, took.count(), resumed);
}

asio::awaitable<void> BigCommerceStore::resolve_unknown(Work& work, const PushContext& context) {
  // Within this run's lookup budget; the SKUs beyond it are judged by the walk alone (a
  // warehouse listing 100,000 SKUs the store does not sell costs 10 requests a run, not 2,000).
  const auto askable = std::min(work.unknown.size(), lookups_left_ * bigcommerce::kLookupBatch);
  lookups_left_ -= (askable + bigcommerce::kLookupBatch - 1) / bigcommerce::kLookupBatch;
  std::vector<std::string> skus;
  for (std::size_t k = 0; k < askable; ++k) skus.push_back(work.batch[work.unknown[k]].sku);
  SkuIds found;
  if (!skus.empty()) found = co_await bigcommerce::look_up_skus(*client_, skus);
  std::set<std::string> have;
  for (const auto& entry : found) have.insert(entry.first);
  std::vector<std::pair<std::string, std::string>> missing;
  for (std::size_t k = 0; k < work.unknown.size(); ++k) {
    const auto i = work.unknown[k];
    if (have.contains(work.batch[i].sku)) continue;
    missing.emplace_back(work.batch[i].sku, std::string(kNotInStore));
    work.verdicts[i] =
        PushResult{PushOutcome::rejected, k < askable ? not_in_store_message(work.walked_at)
                                                      : not_in_walk_message(work.walked_at)};
  }
  co_await async::offload(context.pool, [&] {
    ids_->put(found);
    ids_->put(missing);
  });
  log::info(log::Fields{.connection = connection_},
            "{}: {} SKUs not in the map, {} looked up: {} found, {} not in the store", describe(),
            work.unknown.size(), skus.size(), found.size(), missing.size());
}

asio::awaitable<WholeBatchVerdict> BigCommerceStore::adjust(std::span<const PushItem> items,
                                                            const std::string& reason) {
  auto body = bigcommerce::adjustment_body(reason, config_.location_id, items);
  const std::string resource = "/inventory/adjustments/absolute";
  const auto answer = co_await client_->send("PUT", resource, std::move(body));
  if (answer.status != 422) co_return WholeBatchVerdict::taken();
  const auto problem = bigcommerce::parse_problem(answer.body);
  co_return WholeBatchVerdict::refused(
      "BigCommerce refused it (HTTP 422): " +
      client_->redact(problem ? bigcommerce::describe_problem(*problem) : "no details"));
}

// The SKUs refused by a 422: those the store no longer has are marked "-" (not sent again
// until the next walk); the others keep the store's message (an invalid quantity, an item
// tracked by product...).
asio::awaitable<void> BigCommerceStore::mark_gone(Work& work,
                                                  const std::vector<std::size_t>& refused,
                                                  const PushContext& context) {
  std::vector<std::string> skus;
  for (const auto i : refused) skus.push_back(work.batch[i].sku);
  const SkuIds found = co_await bigcommerce::look_up_skus(*client_, skus);
  std::set<std::string> have;
  for (const auto& entry : found) have.insert(entry.first);
  std::vector<std::pair<std::string, std::string>> gone;
  for (const auto& sku : skus)
    if (!have.contains(sku) && sku.find(',') == std::string::npos)
      gone.emplace_back(sku, std::string(kNotInStore));
  if (gone.empty()) co_return;
  co_await async::offload(context.pool, [&] { ids_->put(gone); });
  std::set<std::string> gone_skus;
  for (const auto& entry : gone) gone_skus.insert(entry.first);
  for (const auto i : refused)
    if (gone_skus.contains(work.batch[i].sku))
      work.verdicts[i]->message += "; no inventory item has this SKU any more";
}

asio::awaitable<std::vector<PushResult>> BigCommerceStore::push(std::vector<PushItem> batch,
                                                                PushContext context) {
  if (!prepared_ && !refused_) co_await prepare(context);
  if (refused_) throw StoreError(*refused_, StoreError::Retry::no);
  Work work(std::move(batch));
  co_await async::offload(context.pool, [&] {
    std::vector<std::string> skus;
    skus.reserve(work.batch.size());
    for (const auto& item : work.batch) skus.push_back(item.sku);
    const auto ids = ids_->find(skus);
    work.walked_at = ids_->completed_at();
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (!ids[i])
        work.unknown.push_back(i);
      else if (*ids[i] == kNotInStore)
        work.verdicts[i] = PushResult{PushOutcome::rejected, not_in_store_message(work.walked_at)};
    }
  });
  if (!work.unknown.empty()) co_await resolve_unknown(work, context);

  std::vector<std::size_t> positions;
  std::vector<PushItem> to_send;
  for (std::size_t i = 0; i < work.batch.size(); ++i)
    if (!work.verdicts[i]) {
      positions.push_back(i);
      to_send.push_back(work.batch[i]);
    }
  const std::string reason = "PackageBee sync " + context.run_reference;
  auto send = [this, &reason](std::span<const PushItem> part) { return adjust(part, reason); };
  IsolationStats stats;
  const std::span<const PushItem> items(to_send);
  auto results = co_await push_isolating_refusals(items, send, &stats);
  isolation_.calls += stats.calls;
  isolation_.refused_calls += stats.refused_calls;

  std::vector<std::size_t> refused;
  for (std::size_t k = 0; k < results.size(); ++k) {
    if (results[k].outcome == PushOutcome::rejected) refused.push_back(positions[k]);
    work.verdicts[positions[k]] = std::move(results[k]);
  }
  if (!refused.empty()) {
    log::warn(log::Fields{.connection = connection_},
              "{}: {} SKUs refused (e.g. {}: {}); isolated in {} requests", describe(),
              refused.size(), work.batch[refused.front()].sku,
              work.verdicts[refused.front()]->message, stats.calls);
    co_await mark_gone(work, refused, context);
  }
  std::vector<PushResult> out;
  out.reserve(work.batch.size());
  for (auto& verdict : work.verdicts) out.push_back(std::move(*verdict));
  co_return out;
}

}  // namespace pb::connectors
