// How the SKU -> id map stays right, and what it costs (the bounds):
// - prepare() walks the whole catalogue (products 100 a page, then the variations of
//   every variable product, `concurrency` requests at once) when no complete walk is on
//   record for this URL, or the last one is older than `catalogue_refresh` (default 24h; if
//   that re-walk fails, the old map is used).
// - A SKU the map does not know is asked for with GET products?sku=A,B,C (up to 50 SKUs a
//   request, so a push of N unknown SKUs costs about N/50 requests). That finds products
//   only: WooCommerce does not search variations by SKU. For SKUs still unknown, the whole
//   catalogue is walked again, but only if the last walk is over kRewalkForUnknownAfter
//   (or `catalogue_refresh`, when shorter) old, so that warehouse SKUs the shop does not sell
//   cost at most one walk in that time. Still unknown: rejected, and marked in the map as not
//   in the store, so that later pushes reject it at once, with no request, until the next
//   walk replaces the map (a SKU the shop adds is found then; the marks survive a restart).
// - A batch item answered woocommerce_rest_*_invalid_id (deleted, or recreated under a new
//   id) drops the SKU from the map; it is asked for again as above, plus the variations of
//   the parents of its variations (those parents' pages only), and pushed again once.
// A SKU carried by several products and variations is confirmed only when all of them took
// the quantity.
#include "connectors/store/woocommerce/woocommerce_store.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <unordered_set>
#include <utility>

#include "async/for_each_bounded.hpp"
#include "async/offload.hpp"
#include "connectors/secret_file.hpp"
#include "connectors/store/catalogue_refresh.hpp"
#include "connectors/store/memory_store_id_cache.hpp"
#include "connectors/store/woocommerce/woocommerce_api.hpp"
#include "connectors/store/woocommerce/woocommerce_batch.hpp"
#include "connectors/store/woocommerce/woocommerce_catalogue.hpp"
#include "connectors/store/woocommerce/woocommerce_id_index.hpp"
#include "log/log.hpp"
#include "net/url.hpp"

namespace pb::connectors {

namespace {
constexpr std::size_t kRoundsPerPush = 8;
}  // namespace

// A push's count of requests answered and failed: a push none of whose requests got an
// answer is a store that is down, not a list of per-SKU failures.
struct WooRequestTally {
  std::size_t answered = 0;
  std::size_t failed = 0;
  std::string first_failure;

  void fail(const std::string& message) {
    if (failed++ == 0) first_failure = message;
  }
};

// What a lookup of unknown SKUs found; `failure` set when a request of it failed.
struct WooLookup {
  SkuTargets found;
  std::string failure;
};

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kRewalkForUnknownAfter = 6h;
constexpr std::string_view kApiRoot = "/wp-json/wc/v3";

std::string name_of(const WooTarget& t) {
  return t.variation()
             ? "variation " + std::to_string(t.id) + " of product " + std::to_string(t.parent)
             : "product " + std::to_string(t.id);
}

// The store's answers for one SKU, over all the products and variations carrying it.
struct ItemState {
  std::optional<std::string> transient;  // the first transient failure's message
  std::optional<std::string> rejected;
  std::optional<std::string> invalid;  // an id the store no longer has

  // Transient first: a retry sends every target again, harmless as quantities are absolute.
  PushResult result() const {
    if (transient) return {PushOutcome::transient, *transient};
    if (rejected) return {PushOutcome::rejected, *rejected};
    if (invalid) return {PushOutcome::rejected, *invalid};
    return {PushOutcome::confirmed, {}};
  }
};

asio::awaitable<void> send_batch(WooCommerceApi& api, const WooBatch& batch,
                                 std::vector<WooItemResult>& out, std::string& failure) {
  const auto body = batch_body(batch);
  const auto resource = batch.resource();
  try {
    const auto reply = co_await api.post(resource, body);
    out = read_batch_reply(reply.body, batch);
  } catch (const WooRequestError& e) {
    failure = e.what();
  }
}

// Sends the quantities of `items` (positions in `batch`) to all their targets, in
// requests of at most 100 objects, `concurrency` at once, and files the answers in `states`.
asio::awaitable<void> send_round(WooCommerceApi& api, std::size_t concurrency,
                                 const std::vector<PushItem>& batch,
                                 const std::vector<std::size_t>& items,
                                 const std::vector<std::vector<WooTarget>>& targets,
                                 std::vector<ItemState>& states, WooRequestTally& tally) {
  std::vector<WooUpdate> updates;
  for (const auto i : items)
    for (const auto& t : targets[i]) updates.push_back(WooUpdate{i, t, batch[i].quantity});
  const auto batches = plan_batches(updates);
  updates = {};
  std::vector<std::vector<WooItemResult>> replies(batches.size());
  std::vector<std::string> failures(batches.size());
  const async::IndexedTask task = [&](std::size_t k) {
    return send_batch(api, batches[k], replies[k], failures[k]);
  };
  co_await async::for_each_bounded(batches.size(), concurrency, task);

  for (std::size_t k = 0; k < batches.size(); ++k) {
    const auto& sent = batches[k].updates;
    if (!failures[k].empty()) {
      tally.fail(failures[k]);
      for (const auto& u : sent)
        if (!states[u.item].transient) states[u.item].transient = failures[k];
      continue;
    }
    ++tally.answered;
    for (std::size_t j = 0; j < sent.size(); ++j) {
      auto& state = states[sent[j].item];
      const auto& answer = replies[k][j];
      auto message = name_of(sent[j].target) + ": " + api.redact(answer.message);
      switch (answer.status) {
        case WooItemStatus::confirmed:
          break;
        case WooItemStatus::rejected:
          if (!state.rejected) state.rejected = std::move(message);
          break;
        case WooItemStatus::transient:
          if (!state.transient) state.transient = std::move(message);
          break;
        case WooItemStatus::invalid_id:
          if (!state.invalid) state.invalid = std::move(message);
          break;
      }
    }
  }
}

std::string not_in_catalogue_message(UnixMillis walked_at) {
  return "SKU not in the WooCommerce catalogue (as of the walk at " + format_time(walked_at) +
         "); it is looked up again after the next catalogue refresh";
}

std::string not_found_message(UnixMillis walked_at) {
  return "not found in the WooCommerce store: no product has this SKU (products?sku lookup), "
         "nor had any variation at the catalogue walk of " +
         format_time(walked_at);
}

}  // namespace

WooCommerceStore::WooCommerceStore(config::WooCommerceStoreConfig config, const StoreDeps& deps)
    : WooCommerceStore(std::move(config), deps, nullptr) {}

WooCommerceStore::WooCommerceStore(config::WooCommerceStoreConfig config, const StoreDeps& deps,
                                   std::shared_ptr<net::HttpSession> session)
    : config_(std::move(config)),
      io_(deps.io),
      connection_(deps.connection),
      session_(std::move(session)),
      exchanges_(deps.exchanges),
      // Another URL (the connection now points at another shop) empties the map.
      index_(std::make_unique<WooIdIndex>(
          open_id_cache(deps.id_caches, "woocommerce " + config_.url))) {}

WooCommerceStore::~WooCommerceStore() = default;

std::size_t WooCommerceStore::concurrency() const {
  return std::max<std::size_t>(1, config_.concurrency);
}

std::chrono::milliseconds WooCommerceStore::refresh_after() const {
  return config_.catalogue_refresh.value_or(config::kDefaultCatalogueRefresh);
}

std::size_t WooCommerceStore::max_batch() const {
  // Several rounds of `concurrency` requests per push: between two pushes the
  // engine commits the verdicts and reads the next batch (~25 ms with fsyncs),
  // time in which nothing is in flight. One round per push left the server
  // idle a quarter of the time at 50 ms latency (bench/store_bench.py).
  return kWooBatchLimit * concurrency() * kRoundsPerPush;
}

std::string WooCommerceStore::describe() const {
  return "woocommerce " + config_.url;
}

asio::awaitable<void> WooCommerceStore::prepare(PushContext context) {
  WooCredentials credentials;
  try {
    credentials = co_await async::offload(context.pool, [this] {
      WooCredentials c;
      c.key = read_secret_file(config_.consumer_key_file, "consumer_key_file");
      c.secret = read_secret_file(config_.consumer_secret_file, "consumer_secret_file");
      return c;
    });
  } catch (const std::exception& e) {
    throw StoreError(describe() + ": " + e.what(), StoreError::Retry::no);
  }
  std::string api_root;
  try {
    const auto url = net::Url::parse(config_.url);
    api_root = url.path + std::string(kApiRoot);
    if (!session_) {
      net::ClientOptions options;
      options.ca_file = config_.ca_file;
      options.max_in_flight = concurrency();
      session_ = net::observe(net::make_http_session(io_, url, std::move(options)), exchanges_);
    }
  } catch (const std::exception& e) {
    throw StoreError(describe() + ": " + e.what(), StoreError::Retry::no);
  }
  api_ = std::make_unique<WooCommerceApi>(session_, std::move(api_root), config_.auth,
                                          std::move(credentials));
  refused_.reset();

  const auto walked_at = co_await async::offload(
      context.pool, [this] { return index_->complete() ? index_->walked_at() : UnixMillis{0}; });
  if (catalogue_is_fresh(walked_at, refresh_after())) co_return;
  std::string failure;
  try {
    co_await walk(context);
  } catch (const WooRequestError& e) {
    failure = e.what();
  } catch (const WooKeyRefused& e) {
    // Thrown by the first push instead, so that the SKUs carry the message, as when the key
    // is refused during a push (the Shopify connector does the same).
    refused_ = e.what();
  }
  if (!failure.empty()) keep_old_map_or_fail(describe(), connection_, walked_at, failure);
}

asio::awaitable<void> WooCommerceStore::walk(const PushContext& context) {
  const auto started = std::chrono::steady_clock::now();
  WalkStats stats;
  const bool complete =
      co_await async::offload(context.pool, [this] { return index_->complete(); });
  std::size_t skus = 0;
  if (!complete) {
    // A first walk (or one a stop or a kill cut short): written as it goes, and resumed.
    co_await walk_catalogue_into(*api_, concurrency(), *index_, context, stats);
    skus = co_await async::offload(context.pool, [this] { return index_->size(); });
  } else {
    // A refresh: the old map serves until the new one is whole (and if the walk fails).
    auto found = co_await walk_catalogue(*api_, concurrency(), stats);
    skus = found.size();
    co_await async::offload(context.pool, [&] {
      index_->replace_all(found, now_millis());
      found = {};  // a big map is freed here, not on the loop
    });
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  const log::Fields fields{.connection = connection_};
  log::info(fields,
            "{}: catalogue walk: {} SKUs on {} products and {} variations, {} requests in {:.1f} s",
            describe(), skus, stats.products, stats.variations, stats.requests, took.count());
}

asio::awaitable<void> WooCommerceStore::look_up(const std::vector<std::string>& skus,
                                                const std::vector<std::uint64_t>& parents,
                                                const PushContext& context, WooRequestTally& tally,
                                                WooLookup& out) {
  const auto n = concurrency();
  try {
    out.found = co_await find_products(*api_, skus, n);
    if (!parents.empty()) {
      const std::unordered_set<std::string> wanted(skus.begin(), skus.end());
      const auto variations = co_await find_variations(*api_, parents, n);
      for (const auto& [sku, targets] : variations)
        if (wanted.contains(sku))
          for (const auto& t : targets) add_target(out.found[sku], t);
    }
    std::vector<std::string> missing;
    for (const auto& sku : skus)
      if (!out.found.contains(sku)) missing.push_back(sku);
    UnixMillis walked_at = 0;
    if (!missing.empty())
      walked_at = co_await async::offload(context.pool, [this] { return index_->walked_at(); });
    const auto rewalk_after =
        std::min<std::chrono::milliseconds>(kRewalkForUnknownAfter, refresh_after());
    if (!missing.empty() && now_millis() - walked_at >= rewalk_after.count()) {
      const log::Fields fields{.connection = connection_};
      log::info(fields,
                "{}: {} SKUs are on no product (e.g. {}); walking the catalogue again for new "
                "variations (last walk {})",
                describe(), missing.size(), missing.front(), format_time(walked_at));
      co_await walk(context);
    }
    co_await async::offload(context.pool, [&] {
      // What the walk found (it replaced the map) joins what the targeted lookups found.
      const auto walked = index_->find(missing);
      std::vector<std::string> not_in_store;
      for (std::size_t i = 0; i < missing.size(); ++i) {
        if (walked[i] && !walked[i]->empty())
          out.found[missing[i]] = *walked[i];
        else
          not_in_store.push_back(missing[i]);
      }
      index_->put(out.found);
      index_->put_not_in_store(not_in_store);
    });
  } catch (const WooRequestError& e) {
    out.failure = e.what();
    tally.fail(out.failure);
  }
}

// One push's working state, by position in the batch: each item's targets, the verdicts
// settled before any batch request, and the store's answers.
struct WooPush {
  explicit WooPush(const std::vector<PushItem>& items)
      : batch(items), settled(items.size()), targets(items.size()), states(items.size()) {}

  // Settles each of `items` whose lookup found nothing; returns those it found. `after_invalid`:
  // the items were looked up again because the store no longer had their ids.
  std::vector<std::size_t> apply_lookup(const std::vector<std::size_t>& items,
                                        const WooLookup& lookup, UnixMillis walked_at,
                                        bool after_invalid) {
    std::vector<std::size_t> found;
    for (const auto i : items) {
      const auto it = lookup.found.find(batch[i].sku);
      if (it != lookup.found.end()) {
        targets[i] = it->second;
        found.push_back(i);
      } else if (!lookup.failure.empty()) {
        settled[i] = PushResult{PushOutcome::transient, lookup.failure};
      } else if (after_invalid) {
        settled[i] = PushResult{PushOutcome::rejected, *states[i].invalid +
                                                           "; and no other product or variation "
                                                           "has this SKU"};
      } else {
        settled[i] = PushResult{PushOutcome::rejected, not_found_message(walked_at)};
      }
    }
    return found;
  }

  std::vector<PushResult> verdicts() {
    std::vector<PushResult> results;
    results.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i)
      results.push_back(settled[i] ? std::move(*settled[i]) : states[i].result());
    return results;
  }

  const std::vector<PushItem>& batch;
  std::vector<std::optional<PushResult>> settled;  // decided before any batch request
  std::vector<std::vector<WooTarget>> targets;
  std::vector<ItemState> states;
  WooRequestTally tally;
};

asio::awaitable<std::vector<PushResult>> WooCommerceStore::push(std::vector<PushItem> batch,
                                                                PushContext context) {
  if (!api_) co_await prepare(context);
  if (refused_) throw StoreError(*refused_, StoreError::Retry::no);
  WooPush work(batch);
  const auto to_send = co_await find_targets(context, work);
  co_await send_round(*api_, concurrency(), batch, to_send, work.targets, work.states, work.tally);
  co_await resend_stale(context, to_send, work);
  if (work.tally.answered == 0 && work.tally.failed > 0)
    throw StoreError(describe() + ": " + work.tally.first_failure, StoreError::Retry::no);
  co_return work.verdicts();
}

asio::awaitable<std::vector<std::size_t>> WooCommerceStore::find_targets(const PushContext& context,
                                                                         WooPush& work) {
  const auto count = work.batch.size();
  std::vector<std::size_t> unknown;
  co_await async::offload(context.pool, [&] {
    std::vector<std::string> skus;
    skus.reserve(count);
    for (const auto& item : work.batch) skus.push_back(item.sku);
    auto found = index_->find(skus);
    const auto walked_at = index_->walked_at();
    for (std::size_t i = 0; i < count; ++i) {
      if (!found[i])
        unknown.push_back(i);
      else if (found[i]->empty())
        work.settled[i] = PushResult{PushOutcome::rejected, not_in_catalogue_message(walked_at)};
      else
        work.targets[i] = std::move(*found[i]);
    }
  });

  std::vector<std::size_t> to_send;
  for (std::size_t i = 0; i < count; ++i)
    if (!work.targets[i].empty()) to_send.push_back(i);
  if (!unknown.empty()) {
    std::vector<std::string> skus;
    for (const auto i : unknown) skus.push_back(work.batch[i].sku);
    const std::vector<std::uint64_t> no_parents;
    WooLookup lookup;
    co_await look_up(skus, no_parents, context, work.tally, lookup);
    const auto walked_at =
        co_await async::offload(context.pool, [this] { return index_->walked_at(); });
    const auto found = work.apply_lookup(unknown, lookup, walked_at, false);
    to_send.insert(to_send.end(), found.begin(), found.end());
    std::sort(to_send.begin(), to_send.end());
  }
  co_return to_send;
}

// Ids the store no longer has: look the SKUs up again and push them once more.
asio::awaitable<void> WooCommerceStore::resend_stale(const PushContext& context,
                                                     const std::vector<std::size_t>& sent,
                                                     WooPush& work) {
  std::vector<std::size_t> stale;
  for (const auto i : sent)
    if (work.states[i].invalid) stale.push_back(i);
  if (stale.empty()) co_return;
  std::vector<std::string> skus;
  std::vector<std::uint64_t> parents;
  for (const auto i : stale) {
    skus.push_back(work.batch[i].sku);
    // All its variations' parents, not only the stale ones': the lookup replaces the
    // SKU's whole entry, and products?sku does not find variations.
    for (const auto& t : work.targets[i])
      if (t.variation()) parents.push_back(t.parent);
  }
  std::sort(parents.begin(), parents.end());
  parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
  const log::Fields fields{.connection = connection_};
  log::warn(fields,
            "{}: {} SKUs have ids the store no longer knows (e.g. {}: {}); looking them up again",
            describe(), stale.size(), skus.front(), *work.states[stale.front()].invalid);
  co_await async::offload(context.pool, [&] { index_->erase(skus); });
  WooLookup lookup;
  co_await look_up(skus, parents, context, work.tally, lookup);
  const auto again = work.apply_lookup(stale, lookup, 0, true);
  for (const auto i : again) work.states[i] = ItemState{};
  co_await send_round(*api_, concurrency(), work.batch, again, work.targets, work.states,
                      work.tally);
}

}  // namespace pb::connectors
