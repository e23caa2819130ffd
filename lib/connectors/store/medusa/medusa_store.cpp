// How the SKU -> inventory item map stays right, and what it costs:
// - prepare() walks every inventory item (1,000 a page, only id, SKU and the locations of its
//   levels, 4 pages at once) when no complete walk is on record for this server and location, or
//   the last one is older than `catalogue_refresh` (if that re-walk fails, the old map is used).
//   A first walk is committed a wave of pages at a time with its checkpoint (run_resumable_walk):
//   a stop, a failure or a kill does not send the next run back to the first page.
// - A SKU the map does not know is looked up (GET /admin/inventory-items?sku=A&sku=B..., up to
//   500 SKUs a request). Still unknown: rejected, and marked in the map as not in the store, so
//   that later pushes reject it with no request until the next walk replaces the map (a variant
//   created with manage_inventory later is found then; the marks survive a restart).
// - A write Medusa refuses (an item deleted, a level created or removed in the admin since the
//   walk) has its SKU looked up again; when the store's answer differs from the map, the map is
//   mended and the write sent once more, else the SKU is rejected with Medusa's words.
// Quantities are on hand: Medusa subtracts its own reservations to get what it sells.
#include "connectors/store/medusa/medusa_store.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "async/offload.hpp"
#include "connectors/secret_file.hpp"
#include "connectors/store/catalogue_refresh.hpp"
#include "connectors/store/medusa/medusa_api.hpp"
#include "connectors/store/medusa/medusa_catalogue.hpp"
#include "connectors/store/medusa/medusa_levels.hpp"
#include "connectors/store/medusa/medusa_requests.hpp"
#include "connectors/store/memory_store_id_cache.hpp"
#include "connectors/store/resumable_walk.hpp"
#include "log/log.hpp"
#include "net/url.hpp"

namespace pb::connectors {

namespace medusa {

// One push's working state, by position in the batch.
struct MedusaPush {
  explicit MedusaPush(const std::vector<PushItem>& items)
      : batch(items), results(items.size()), refs(items.size()) {}

  const std::vector<PushItem>& batch;
  std::vector<PushResult> results;           // confirmed unless said otherwise
  std::vector<std::optional<ItemRef>> refs;  // the item each SKU is written to
  WriteStats stats;
};

}  // namespace medusa

namespace {

namespace asio = boost::asio;
using medusa::ItemRef;
using medusa::MedusaPush;

// Pages of the walk in flight at once after the first.
constexpr std::size_t kWalkConcurrency = 4;
// Batch rounds per push: between pushes the engine commits verdicts and reads the next batch.
constexpr std::size_t kRoundsPerPush = 4;

std::string not_in_store_message(UnixMillis walked_at) {
  return "no inventory item in Medusa has this SKU (as of the walk at " + format_time(walked_at) +
         "; a variant needs manage_inventory to have one); it is looked up again after the next "
         "catalogue refresh";
}

// A walk's position: an item offset. Junk (never written by this connector) begins again.
std::size_t parse_offset(const std::string& position) {
  std::size_t offset = 0;
  const auto* end = position.data() + position.size();
  const auto [stopped, error] = std::from_chars(position.data(), end, offset);
  return error == std::errc{} && stopped == end ? offset : 0;
}

std::vector<std::pair<std::string, std::string>> encoded(const medusa::SkuItems& items) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(items.size());
  for (const auto& [sku, item] : items) out.emplace_back(sku, medusa::encode_item(item));
  return out;
}

}  // namespace

MedusaStore::MedusaStore(config::MedusaStoreConfig config, const StoreDeps& deps)
    : MedusaStore(std::move(config), deps, nullptr) {}

MedusaStore::MedusaStore(config::MedusaStoreConfig config, const StoreDeps& deps,
                         std::shared_ptr<net::HttpSession> session)
    : config_(std::move(config)),
      io_(deps.io),
      connection_(deps.connection),
      session_(std::move(session)),
      exchanges_(deps.exchanges),
      // Another server or location empties the map: levels are per location.
      cache_(open_id_cache(deps.id_caches, "medusa " + config_.url + " " + config_.location_id)) {}

MedusaStore::~MedusaStore() = default;

std::size_t MedusaStore::max_batch() const {
  return medusa::kBatchLimit * medusa::kBatchConcurrency * kRoundsPerPush;
}

std::string MedusaStore::describe() const {
  return "medusa " + config_.url + " " + config_.location_id;
}

asio::awaitable<void> MedusaStore::prepare(PushContext context) {
  std::string key;
  try {
    key = co_await async::offload(
        context.pool, [this] { return read_secret_file(config_.api_key_file, "api_key_file"); });
  } catch (const std::exception& e) {
    throw StoreError(describe() + ": " + e.what(), StoreError::Retry::no);
  }
  std::string root;
  try {
    const auto url = net::Url::parse(config_.url);
    root = url.path;
    while (root.ends_with('/')) root.pop_back();
    if (!session_) {
      net::ClientOptions options;
      options.ca_file = config_.ca_file;
      options.max_in_flight = std::max(kWalkConcurrency, medusa::kItemConcurrency);
      session_ = net::observe(net::make_http_session(io_, url, std::move(options)), exchanges_);
    }
  } catch (const std::exception& e) {
    throw StoreError(describe() + ": " + e.what(), StoreError::Retry::no);
  }
  api_ = std::make_unique<medusa::Api>(session_, std::move(root), std::move(key));
  refused_.reset();

  const auto walked_at = co_await async::offload(
      context.pool, [this] { return cache_->complete() ? cache_->completed_at() : UnixMillis{0}; });
  const auto refresh =
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.catalogue_refresh);
  if (catalogue_is_fresh(walked_at, refresh)) co_return;
  std::string failure;
  try {
    co_await walk(context, walked_at);
  } catch (const medusa::KeyRefused& e) {
    refused_ = e.what();  // thrown by the first push, so that its SKUs carry the message
  } catch (const medusa::RequestError& e) {
    failure = e.what();
  }
  if (!failure.empty()) keep_old_map_or_fail(describe(), connection_, walked_at, failure);
}

// A refresh of a complete map walks into memory and replaces the map at the end, so that the old
// map serves until the new one is whole (and if the walk fails); a first walk (or one a stop or a
// kill cut short) is written as it goes, and goes on from its checkpoint.
asio::awaitable<void> MedusaStore::walk(const PushContext& context, UnixMillis walked_at) {
  if (walked_at == 0) {
    co_await resumable_walk(context);
    co_return;
  }
  const auto started = std::chrono::steady_clock::now();
  medusa::WalkStats stats;
  auto found = co_await medusa::walk_catalogue(*api_, config_.location_id, kWalkConcurrency, stats);
  const auto skus = found.size();
  co_await async::offload(context.pool, [&] {
    cache_->replace_all(encoded(found), now_millis());
    found = {};  // a big map is freed here, not on the loop
  });
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  const log::Fields fields{.connection = connection_};
  log::info(fields, "{}: catalogue walk: {} SKUs on {} inventory items, {} requests in {:.1f} s",
            describe(), skus, stats.items, stats.requests, took.count());
}

asio::awaitable<void> MedusaStore::resumable_walk(const PushContext& context) {
  const auto started = std::chrono::steady_clock::now();
  const log::Fields fields{.connection = connection_};
  medusa::WalkReader reader{*api_, config_.location_id, kWalkConcurrency, 0, {}, std::nullopt};
  ResumableWalk plan;
  plan.kind = medusa::kWalkKind;
  plan.first_position = "0";
  plan.platform = "Medusa";
  plan.read_page = [&](const std::string& position) {
    const auto offset = parse_offset(position);
    if (!reader.started_at && offset > 0)
      log::info(fields, "{}: the catalogue walk goes on from item {} (its checkpoint)", describe(),
                offset);
    return medusa::read_walk_step(reader, offset);
  };
  const auto result = co_await run_resumable_walk(*cache_, context, plan);
  const auto skus = co_await async::offload(context.pool, [this] { return cache_->size(); });
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  std::string resumed;
  if (result.resumed)
    resumed = fmt::format(" (resumed at item {}: {} had been read before)",
                          reader.started_at.value_or(0), result.listed - reader.stats.items);
  log::info(fields, "{}: catalogue walk: {} SKUs on {} inventory items, {} requests in {:.1f} s{}",
            describe(), skus, result.listed, reader.stats.requests, took.count(), resumed);
}

asio::awaitable<std::vector<PushResult>> MedusaStore::push(std::vector<PushItem> batch,
                                                           PushContext context) {
  if (refused_) throw medusa::KeyRefused(describe() + ": " + *refused_);
  if (!api_) throw StoreError(describe() + ": push before prepare", StoreError::Retry::no);
  MedusaPush work(batch);
  co_await find_items(context, work);
  std::vector<std::size_t> to_send;
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (work.refs[i]) to_send.push_back(i);
  co_await write(context, work, to_send);
  co_await retry_refused(context, work, to_send);
  if (work.stats.requests == 0 && work.stats.failed_requests > 0)
    throw StoreError(describe() + ": " + work.stats.first_failure, StoreError::Retry::no);
  co_return std::move(work.results);
}

// Each SKU's item from the map; the SKUs it does not know looked up (and remembered, found or not).
asio::awaitable<void> MedusaStore::find_items(const PushContext& context, MedusaPush& work) {
  std::vector<std::string> unknown;
  UnixMillis walked_at = 0;
  co_await async::offload(context.pool, [&] {
    std::vector<std::string> skus;
    skus.reserve(work.batch.size());
    for (const auto& item : work.batch) skus.push_back(item.sku);
    const auto found = cache_->find(skus);
    walked_at = cache_->completed_at();
    for (std::size_t i = 0; i < skus.size(); ++i) {
      if (found[i] && *found[i] == medusa::kNotInStore) {
        work.results[i] = {PushOutcome::rejected, not_in_store_message(walked_at)};
        continue;
      }
      if (found[i]) work.refs[i] = medusa::decode_item(*found[i]);
      if (!work.refs[i]) unknown.push_back(skus[i]);  // not in the map, or unreadable
    }
  });
  if (unknown.empty()) co_return;
  medusa::SkuItems found;
  try {
    found = co_await medusa::look_up_skus(*api_, unknown, config_.location_id);
  } catch (const medusa::RequestError& e) {
    if (work.stats.failed_requests++ == 0) work.stats.first_failure = e.what();
    for (std::size_t i = 0; i < work.batch.size(); ++i)
      if (!work.refs[i] && work.results[i].outcome == PushOutcome::confirmed)
        work.results[i] = {PushOutcome::transient, e.what()};
    co_return;
  }
  ++work.stats.requests;
  std::map<std::string, ItemRef> by_sku(found.begin(), found.end());
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < work.batch.size(); ++i) {
    if (work.refs[i] || work.results[i].outcome != PushOutcome::confirmed) continue;
    const auto it = by_sku.find(work.batch[i].sku);
    if (it != by_sku.end()) {
      work.refs[i] = it->second;
    } else {
      work.results[i] = {PushOutcome::rejected, not_in_store_message(walked_at)};
      missing.push_back(work.batch[i].sku);
    }
  }
  co_await async::offload(context.pool, [&] {
    auto entries = encoded(found);
    for (const auto& sku : missing) entries.emplace_back(sku, std::string(medusa::kNotInStore));
    cache_->put(entries);
  });
}

// Writes the items at `items` (positions), and records in the map the levels the writes created.
asio::awaitable<void> MedusaStore::write(const PushContext& context, MedusaPush& work,
                                         const std::vector<std::size_t>& items) {
  std::vector<medusa::LevelWrite> writes;
  writes.reserve(items.size());
  for (const auto i : items)
    // Medusa keeps no negative stock (stocked_quantity >= 0): none on hand is 0.
    writes.push_back(
        {work.refs[i]->id, std::max<Quantity>(0, work.batch[i].quantity), !work.refs[i]->stocked});
  const auto results =
      co_await medusa::write_levels(*api_, writes, config_.location_id, route_, work.stats);
  std::vector<std::pair<std::string, std::string>> created;
  for (std::size_t k = 0; k < items.size(); ++k) {
    const auto i = items[k];
    work.results[i] = results[k];
    if (results[k].outcome == PushOutcome::confirmed && writes[k].create) {
      work.refs[i]->stocked = true;
      created.emplace_back(work.batch[i].sku, medusa::encode_item(*work.refs[i]));
    }
  }
  if (!created.empty()) co_await async::offload(context.pool, [&] { cache_->put(created); });
}

// Writes Medusa refused: the SKU looked up again; sent once more where the map was wrong.
asio::awaitable<void> MedusaStore::retry_refused(const PushContext& context, MedusaPush& work,
                                                 const std::vector<std::size_t>& sent) {
  std::vector<std::size_t> refused;
  std::vector<std::string> skus;
  for (const auto i : sent)
    if (work.results[i].outcome == PushOutcome::rejected) {
      refused.push_back(i);
      skus.push_back(work.batch[i].sku);
    }
  if (refused.empty()) co_return;
  medusa::SkuItems found;
  try {
    found = co_await medusa::look_up_skus(*api_, skus, config_.location_id);
  } catch (const medusa::RequestError& e) {
    const log::Fields fields{.connection = connection_};
    log::warn(fields, "{}: could not look refused SKUs up again: {}", describe(), e.what());
    co_return;  // the refusals stand; the next run tries again
  }
  const std::map<std::string, ItemRef> by_sku(found.begin(), found.end());
  std::vector<std::size_t> again;
  std::vector<std::pair<std::string, std::string>> mended;
  std::vector<std::string> gone;
  for (const auto i : refused) {
    const auto it = by_sku.find(work.batch[i].sku);
    if (it == by_sku.end()) {
      gone.push_back(work.batch[i].sku);
      work.results[i].message += "; and no inventory item has this SKU any more";
    } else if (it->second != *work.refs[i]) {
      work.refs[i] = it->second;
      mended.emplace_back(work.batch[i].sku, medusa::encode_item(it->second));
      again.push_back(i);
    }
  }
  const log::Fields fields{.connection = connection_};
  log::warn(fields, "{}: Medusa refused {} writes (e.g. {}: {}); {} had a stale map entry",
            describe(), refused.size(), work.batch[refused.front()].sku,
            work.results[refused.front()].message, again.size());
  co_await async::offload(context.pool, [&] {
    cache_->put(mended);
    cache_->erase(gone);
  });
  if (!again.empty()) co_await write(context, work, again);
}

}  // namespace pb::connectors
