// How the connector keeps Magento's rules, and what it costs:
// - Only SKUs of the catalogue are sent. Magento saves a source item for any SKU it is sent,
//   product or not (an orphan row the admin never shows), so the SKU -> product map decides:
//   prepare() walks every product (GET products, 300 a page, `fields` limited to sku, id and
//   type) when no complete walk is on record for this store, or the last one is older than
//   `catalogue_refresh` (default 24h). A first walk commits each wave of pages with its
//   checkpoint (run_resumable_walk): a stop, a failure or a kill costs the wave in flight, and
//   `beectl pause` or SIGTERM ends it between two waves. A SKU the map does not know is looked
//   up (sku IN (...), 50 a request); one still not found is rejected and marked "-" in the
//   map, so that later runs reject it with no request until the next walk replaces the map.
// - Configurable, bundle and grouped products hold no quantity of their own: rejected.
// - POST inventory/source-items is one transaction: a refused call is halved until the
//   refused SKUs stand alone (push_isolating_refusals); each is rejected with Magento's words.
// - With Web API input limits on, a call of more items than the store's "Input List Limit" is
//   refused with "Maximum items of type ... is N": the connector sends N a call from then on,
//   for the rest of the run, and resends what was refused.
// - At most kInFlight calls at once: a Magento store is usually one PHP-FPM pool and one
//   database, which also serve the shop's visitors.
#include "connectors/store/magento/magento_store.hpp"

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "async/for_each_bounded.hpp"
#include "async/offload.hpp"
#include "connectors/secret_file.hpp"
#include "connectors/store/catalogue_refresh.hpp"
#include "connectors/store/magento/magento_api.hpp"
#include "connectors/store/magento/magento_catalogue.hpp"
#include "connectors/store/magento/magento_messages.hpp"
#include "connectors/store/memory_store_id_cache.hpp"
#include "connectors/store/refusal_isolation.hpp"
#include "connectors/store/resumable_walk.hpp"
#include "log/log.hpp"
#include "net/url.hpp"

namespace pb::connectors {

// One push's working state, by position in the batch.
struct MagentoPush {
  explicit MagentoPush(const std::vector<PushItem>& items) : batch(items), results(items.size()) {}

  void fail(std::size_t position, const std::string& message) {
    results[position] = {PushOutcome::transient, message};
  }
  void failed_request(const std::string& message) {
    if (failed++ == 0) first_failure = message;
  }

  const std::vector<PushItem>& batch;
  std::vector<PushResult> results;  // confirmed unless set otherwise
  std::vector<std::size_t> to_send;
  std::vector<std::size_t> unknown;
  std::size_t answered = 0;  // calls Magento answered
  std::size_t failed = 0;    // calls that got no answer
  std::string first_failure;
};

namespace {

namespace asio = boost::asio;
namespace json = boost::json;

// Two calls in flight: one PHP worker saving while the next call's body travels. More would
// queue behind the shop's visitors on the same workers and database.
constexpr std::size_t kInFlight = 2;
// Each item costs Magento a product load in its validators; 200 keeps a call near a second.
constexpr std::size_t kItemsPerCall = 200;
// Calls per engine batch: between two batches the engine commits verdicts, idle time.
constexpr std::size_t kCallsPerPush = 8;
// Not what encode_product() writes (it holds a ':'), so never taken for a product.
constexpr std::string_view kNotInStore = "-";
const std::string kSourceItems = "inventory/source-items";

// The store said "at most `max` items a call".
class InputLimitHit : public std::runtime_error {
 public:
  InputLimitHit(std::size_t max, const std::string& text) : std::runtime_error(text), max_(max) {}
  std::size_t max() const { return max_; }

 private:
  std::size_t max_;
};

std::string source_items_body(std::span<const PushItem> items, const std::string& source) {
  json::array list;
  list.reserve(items.size());
  for (const auto& item : items) {
    json::object entry;
    entry["sku"] = item.sku;
    entry["source_code"] = source;
    entry["quantity"] = item.quantity;
    // Magento refuses "in stock" with a quantity of zero or less.
    entry["status"] = item.quantity > 0 ? 1 : 0;
    list.emplace_back(std::move(entry));
  }
  json::object body;
  body["sourceItems"] = std::move(list);
  return json::serialize(body);
}

std::string not_in_catalogue(UnixMillis walked_at) {
  return "SKU not in the Magento catalogue (as of the walk at " + format_time(walked_at) +
         "); not sent, as Magento would create a source item without a product; looked up "
         "again after the next catalogue walk";
}

std::string no_own_quantity(const std::string& type) {
  return "a " + type +
         " product has no quantity of its own in Magento (its children's make its stock)";
}

}  // namespace

MagentoStore::MagentoStore(config::MagentoStoreConfig config, const StoreDeps& deps)
    : MagentoStore(std::move(config), deps, nullptr) {}

MagentoStore::MagentoStore(config::MagentoStoreConfig config, const StoreDeps& deps,
                           std::shared_ptr<net::HttpSession> session)
    : config_(std::move(config)),
      io_(deps.io),
      connection_(deps.connection),
      session_(std::move(session)),
      exchanges_(deps.exchanges),
      // Another store (URL or store view) empties the map.
      cache_(open_id_cache(deps.id_caches, "magento " + config_.url + " " + config_.store_code)),
      per_call_(kItemsPerCall) {}

MagentoStore::~MagentoStore() = default;

std::size_t MagentoStore::max_batch() const {
  return kItemsPerCall * kCallsPerPush;
}

std::string MagentoStore::describe() const {
  return "magento " + config_.url + " (source " + config_.source_code + ")";
}

std::chrono::milliseconds MagentoStore::refresh_after() const {
  return config_.catalogue_refresh.value_or(config::kDefaultCatalogueRefresh);
}

asio::awaitable<void> MagentoStore::prepare(PushContext context) {
  std::string token;
  std::string root;
  try {
    token = co_await async::offload(context.pool, [this] {
      return read_secret_file(config_.access_token_file, "access_token_file");
    });
    const auto url = net::Url::parse(config_.url);
    root = url.path + "/rest/" + config_.store_code + "/V1";
    if (!session_) {
      net::ClientOptions options;
      options.ca_file = config_.ca_file;
      options.max_in_flight = kInFlight;
      session_ = net::observe(net::make_http_session(io_, url, std::move(options)), exchanges_);
    }
  } catch (const std::exception& e) {
    throw StoreError(describe() + ": " + e.what(), StoreError::Retry::no);
  }
  api_ = std::make_unique<MagentoApi>(session_, std::move(root), std::move(token));
  refused_.reset();
  per_call_ = kItemsPerCall;  // learnt again in each run: the store's setting may change
  limit_logged_ = false;

  const auto walked_at = co_await async::offload(
      context.pool, [this] { return cache_->complete() ? cache_->completed_at() : UnixMillis{0}; });
  std::string failure;
  try {
    co_await check_source();
    if (catalogue_is_fresh(walked_at, refresh_after())) co_return;
    co_await walk(context);
  } catch (const MagentoTokenRefused& e) {
    // Thrown by the first push instead, as the other connectors do.
    refused_ = e.what();
  } catch (const MagentoRequestError& e) {
    failure = e.what();
  }
  if (!failure.empty()) keep_old_map_or_fail(describe(), connection_, walked_at, failure);
}

// A source code that does not exist would make every call fail as a whole ("Could not save
// Source Item"), SKU after SKU: one GET says so at once and names the key.
asio::awaitable<void> MagentoStore::check_source() {
  const auto resource = "inventory/sources/" + net::url_encode(config_.source_code);
  const std::string no_query;
  const auto reply = co_await api_->get(resource, no_query);
  if (reply.status == 404)
    throw StoreError(
        describe() + ": the store has no MSI source \"" + config_.source_code +
            "\" (source_code; or Multi-Source Inventory is not installed): " + reply.text,
        StoreError::Retry::no);
  if (!reply.ok()) throw MagentoRequestError("GET " + resource + ": " + reply.text);
}

// A first walk (or one a stop, a failure or a kill cut short) is written as it goes and goes on
// from its checkpoint; a refresh of a complete map walks into memory, so that the old map serves
// until the new one is whole (and if the walk fails).
asio::awaitable<void> MagentoStore::walk(const PushContext& context) {
  const auto started = std::chrono::steady_clock::now();
  MagentoWalkStats stats;
  stats.page_size = kMagentoPageSize;
  const bool complete =
      co_await async::offload(context.pool, [this] { return cache_->complete(); });
  const ResumableWalk steps{std::string(kMagentoWalkKind), encode_walk_position({}), "Magento",
                            [this, &stats](const std::string& position) {
                              return read_walk_step(*api_, kInFlight, position, stats);
                            },
                            nullptr};
  std::size_t skus = 0;
  std::string resumed;
  if (!complete) {
    const auto checkpoint = co_await async::offload(context.pool, [this] {
      const auto text = cache_->walk_checkpoint();
      return text ? decode_walk_checkpoint(kMagentoWalkKind, *text) : std::nullopt;
    });
    const auto at = checkpoint ? decode_walk_position(checkpoint->position) : std::nullopt;
    if (at && checkpoint->listed > 0) {  // not a walk killed before its first step
      resumed =
          fmt::format(" (resumed at page {} of {} products, after {} listed by an earlier run)",
                      at->page, at->page_size, checkpoint->listed);
      const log::Fields fields{.connection = connection_};
      log::info(fields,
                "{}: resuming the catalogue walk at page {} of {} products ({} listed before)",
                describe(), at->page, at->page_size, checkpoint->listed);
    }
    co_await run_resumable_walk(*cache_, context, steps);
    skus = co_await async::offload(context.pool, [this] { return cache_->size(); });
  } else {
    auto entries = co_await read_walk_whole(context, steps);
    skus = entries.size();
    co_await async::offload(context.pool, [&] {
      cache_->replace_all(std::move(entries), now_millis());  // freed on the pool, not the loop
    });
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  const log::Fields fields{.connection = connection_};
  log::info(fields, "{}: catalogue walk: {} SKUs, {} requests of {} products in {:.1f} s{}",
            describe(), skus, stats.requests, stats.page_size, took.count(), resumed);
}

asio::awaitable<std::vector<PushResult>> MagentoStore::push(std::vector<PushItem> batch,
                                                            PushContext context) {
  if (!api_) co_await prepare(context);
  if (refused_) throw StoreError(*refused_, StoreError::Retry::no);
  MagentoPush work(batch);
  co_await async::offload(context.pool, [&] {
    std::vector<std::string> skus;
    skus.reserve(batch.size());
    for (const auto& item : batch) skus.push_back(item.sku);
    const auto found = cache_->find(skus);
    const auto walked_at = cache_->completed_at();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto product = found[i] ? decode_product(*found[i]) : std::nullopt;
      if (found[i] && *found[i] == kNotInStore)
        work.results[i] = {PushOutcome::rejected, not_in_catalogue(walked_at)};
      else if (!product)
        work.unknown.push_back(i);
      else if (!holds_quantity(product->type))
        work.results[i] = {PushOutcome::rejected, no_own_quantity(product->type)};
      else
        work.to_send.push_back(i);
    }
  });
  if (!work.unknown.empty()) co_await find_unknown(context, work);
  std::sort(work.to_send.begin(), work.to_send.end());

  const auto per_part = per_call_;
  const auto parts = (work.to_send.size() + per_part - 1) / per_part;
  const async::IndexedTask task = [&](std::size_t k) {
    return send_part(work, k * per_part, std::min(work.to_send.size(), (k + 1) * per_part));
  };
  co_await async::for_each_bounded(parts, kInFlight, task);
  if (work.answered == 0 && work.failed > 0)
    throw StoreError(describe() + ": " + work.first_failure, StoreError::Retry::no);
  co_return std::move(work.results);
}

asio::awaitable<void> MagentoStore::find_unknown(const PushContext& context, MagentoPush& work) {
  std::vector<std::string> skus;
  for (const auto i : work.unknown) skus.push_back(work.batch[i].sku);
  MagentoProducts found;
  try {
    found = co_await find_products(*api_, skus, kInFlight);
  } catch (const MagentoRequestError& e) {
    for (const auto i : work.unknown) work.fail(i, e.what());
    work.failed_request(e.what());
    co_return;
  }
  co_await async::offload(context.pool, [&] {
    std::vector<std::pair<std::string, std::string>> entries;
    std::size_t missing = 0;
    const auto walked_at = cache_->completed_at();
    for (const auto i : work.unknown) {
      const auto it = found.find(work.batch[i].sku);
      if (it == found.end()) {
        ++missing;
        entries.emplace_back(work.batch[i].sku, std::string(kNotInStore));
        work.results[i] = {PushOutcome::rejected, not_in_catalogue(walked_at)};
        continue;
      }
      entries.emplace_back(it->first, encode_product(it->second));
      if (!holds_quantity(it->second.type))
        work.results[i] = {PushOutcome::rejected, no_own_quantity(it->second.type)};
      else
        work.to_send.push_back(i);
    }
    cache_->put(entries);
    if (missing > 0) {
      const log::Fields fields{.connection = connection_};
      log::info(fields, "{}: {} SKUs are not in the catalogue (e.g. {}); rejected, not sent",
                describe(), missing, skus.front());
    }
  });
}

void MagentoStore::learn_limit(std::size_t max, const std::string& text) {
  per_call_ = std::min(per_call_, max);
  if (limit_logged_) return;
  limit_logged_ = true;
  const log::Fields fields{.connection = connection_};
  log::warn(fields,
            "{}: the store has Web API input limits on ({}); sending {} items a call for the rest "
            "of this run",
            describe(), text, per_call_);
}

// Sends work.to_send[begin, end) in calls of per_call_ items, isolating refused SKUs.
asio::awaitable<void> MagentoStore::send_part(MagentoPush& work, std::size_t begin,
                                              std::size_t end) {
  auto send = [this](std::span<const PushItem> part) -> asio::awaitable<WholeBatchVerdict> {
    const auto body = source_items_body(part, config_.source_code);
    const auto reply = co_await api_->post(kSourceItems, body);
    if (reply.ok()) co_return WholeBatchVerdict::taken();
    // Magento's refusals carry its JSON error body; a bare 400 (a proxy's page) refuses no SKU.
    if (reply.status == 400 && reply.body.is_object()) {
      if (const auto max = input_list_limit(reply.text)) throw InputLimitHit(*max, reply.text);
      co_return WholeBatchVerdict::refused("Magento refused the source item: " + reply.text);
    }
    if (reply.status == 404)
      throw StoreError(describe() + ": POST " + kSourceItems + ": " + reply.text +
                           " (is Multi-Source Inventory installed?)",
                       StoreError::Retry::no);
    throw MagentoRequestError("POST " + kSourceItems + ": " + reply.text);
  };
  while (begin < end) {
    const auto n = std::min(per_call_, end - begin);
    std::vector<PushItem> items;
    items.reserve(n);
    for (std::size_t k = begin; k < begin + n; ++k) items.push_back(work.batch[work.to_send[k]]);
    try {
      const std::span<const PushItem> all(items);
      const auto results = co_await push_isolating_refusals(all, send);
      for (std::size_t k = 0; k < n; ++k) work.results[work.to_send[begin + k]] = results[k];
      ++work.answered;
      begin += n;
    } catch (const InputLimitHit& e) {
      ++work.answered;
      if (e.max() < n) {
        learn_limit(e.max(), e.what());
        continue;  // the same items again, in calls of the new size
      }
      // A limit that the call kept: nothing to adapt; the items wait for the next run.
      for (std::size_t k = begin; k < begin + n; ++k) work.fail(work.to_send[k], e.what());
      begin += n;
    } catch (const MagentoRequestError& e) {
      work.failed_request(e.what());
      for (std::size_t k = begin; k < end; ++k) work.fail(work.to_send[k], e.what());
      co_return;
    }
  }
}

}  // namespace pb::connectors
