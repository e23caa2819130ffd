#include "connectors/store/shopify/shopify_store.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "async/offload.hpp"
#include "connectors/secret_file.hpp"
#include "connectors/store/memory_store_id_cache.hpp"
#include "connectors/store/shopify/shopify_catalogue.hpp"
#include "connectors/store/shopify/shopify_graphql.hpp"
#include "connectors/store/shopify/shopify_idempotency.hpp"
#include "log/log.hpp"
#include "net/url.hpp"

namespace pb::connectors {

namespace shopify {

// One quantity to set: a SKU of the batch on one of its inventory items.
struct Line {
  enum class Fate { pending, confirmed, rejected, transient, refresh };
  std::size_t item = 0;  // index into the batch
  std::string inventory_item_id;
  Fate fate = Fate::pending;
  std::string message;
};

}  // namespace shopify

namespace {

namespace asio = boost::asio;
using shopify::Line;
using Fate = shopify::Line::Fate;

// Resends of a call whose key Shopify will not accept again
// (IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED, _KEY_PARAMETER_MISMATCH) under a new
// one, and waits for a concurrent request with the same key to finish.
constexpr int kMaxKeyResets = 2;
constexpr int kMaxConcurrentWaits = 3;
constexpr std::chrono::milliseconds kConcurrentWait{1000};

std::string endpoint_of(const config::ShopifyStoreConfig& c) {
  if (!c.endpoint.empty()) return c.endpoint;
  return "https://" + c.shop + "/admin/api/" + c.api_version + "/graphql.json";
}

std::string target_of(const std::string& endpoint) {
  const auto url = net::Url::parse(endpoint);
  std::string target = url.path.empty() ? "/" : url.path;
  if (!url.query.empty()) target += "?" + url.query;
  return target;
}

std::shared_ptr<net::HttpSession> open_session(const boost::asio::any_io_executor& io,
                                               const config::ShopifyStoreConfig& c) {
  net::ClientOptions options;
  options.ca_file = c.ca_file;
  options.max_in_flight = 1;  // one call at a time: the cost bucket is the limit, not latency
  return net::make_http_session(io, net::Url::parse(endpoint_of(c)), options);
}

std::string numeric_tail(const std::string& gid) {
  return gid.substr(gid.rfind('/') + 1);
}

PushResult rejected(std::string message) {
  return {PushOutcome::rejected, std::move(message)};
}

std::string describe_error(const shopify::UserError& e) {
  return fmt::format("Shopify: {} ({})", e.message.empty() ? "refused" : e.message,
                     e.code.empty() ? "no code" : e.code);
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
}

// A GraphQL THROTTLED error comes with status 200; the client parses the body later anyway.
bool graphql_throttled(const net::Response& response) {
  return response.body.find("\"THROTTLED\"") != std::string::npos;
}

// Sessions to a bulk result's host (Shopify's storage, not the shop): the same trust anchors,
// one request at a time, room for a chunk.
shopify::ResultSessions result_sessions_of(const boost::asio::any_io_executor& io,
                                           const config::ShopifyStoreConfig& c) {
  return [io, ca_file = c.ca_file](const net::Url& url) {
    net::ClientOptions options;
    options.ca_file = ca_file;
    options.max_in_flight = 1;
    return net::make_http_session(io, url, options);
  };
}

}  // namespace

ShopifyStore::ShopifyStore(config::ShopifyStoreConfig config, const StoreDeps& deps)
    : ShopifyStore(config, deps,
                   net::observe(open_session(deps.io, config), deps.exchanges, graphql_throttled),
                   {}, result_sessions_of(deps.io, config)) {}

ShopifyStore::ShopifyStore(config::ShopifyStoreConfig config, const StoreDeps& deps,
                           std::shared_ptr<net::HttpSession> session, net::RetryOptions retry,
                           shopify::ResultSessions result_sessions)
    : config_(std::move(config)),
      connection_(deps.connection),
      endpoint_(endpoint_of(config_)),
      client_(std::make_unique<shopify::GraphqlClient>(std::move(session), target_of(endpoint_),
                                                       config_.access_token_file, retry)),
      // The endpoint and location say which catalogue and which stock the map is of.
      id_map_(std::make_unique<shopify::IdMap>(
          open_id_cache(deps.id_caches, "shopify " + endpoint_ + " " + config_.location_id))),
      result_sessions_(std::move(result_sessions)) {}

ShopifyStore::~ShopifyStore() = default;

std::size_t ShopifyStore::max_batch() const {
  return shopify::kMaxQuantitiesPerCall;
}

std::string ShopifyStore::describe() const {
  return "shopify " + config_.shop + " location " + numeric_tail(config_.location_id);
}

const shopify::CallStats& ShopifyStore::stats() const {
  return client_->stats();
}

asio::awaitable<void> ShopifyStore::prepare(PushContext context) {
  const log::Fields fields{connection_};
  std::string token;
  try {
    auto read_token = [this] {
      return read_secret_file(config_.access_token_file, "Shopify access_token_file");
    };
    token = co_await async::offload(context.pool, read_token);
  } catch (const std::exception& e) {
    throw StoreError(e.what(), StoreError::Retry::no);  // names the file, never its content
  }
  client_->set_access_token(std::move(token));
  lookups_left_ = kLookupsPerRun;
  refused_.reset();

  // 0: no complete map. Without catalogue_refresh a complete map is never walked again:
  // the SKUs it lacks are looked up (kLookupsPerRun a run).
  auto walked = [this] { return id_map_->complete() ? id_map_->walked_at() : UnixMillis{0}; };
  const UnixMillis walked_at = co_await async::offload(context.pool, walked);
  const bool stale =
      walked_at != 0 && config_.catalogue_refresh &&
      now_millis() - walked_at >= std::chrono::milliseconds(*config_.catalogue_refresh).count();
  try {
    if (walked_at != 0 && !stale) {
      auto body = shopify::request_body(shopify::kShopQuery, {});
      co_await client_->call(shopify::CallKind::token_check, std::move(body));
    } else {
      pb::log::info(
          fields, "{} for {}: reading the catalogue",
          stale ? "the SKU map is older than catalogue_refresh" : "no complete SKU map cached",
          describe());
      shopify::Walk walk{*client_, *id_map_, context, fields, result_sessions_};
      co_await shopify::walk_catalogue(walk);
    }
  } catch (const shopify::TokenRefused& e) {
    // Thrown by the first push instead, so that the SKUs carry the message, as when the
    // token is refused during a push.
    refused_ = e.what();
  }
  if (!refused_) prepared_ = true;
}

// Looks up the SKUs at `which` (within this run's budget), caches what it
// finds into `ids`, and rejects the rest with `not_found`.
asio::awaitable<void> ShopifyStore::look_up(const std::vector<std::size_t>& which,
                                            const std::vector<std::string>& skus,
                                            std::vector<shopify::ItemIds>& ids,
                                            std::vector<std::optional<PushResult>>& verdicts,
                                            const PushContext& context,
                                            const std::string& not_found) {
  std::vector<std::string> asked;
  for (const auto i : which) {
    if (lookups_left_ == 0) break;
    asked.push_back(skus[i]);
    --lookups_left_;
  }
  const std::set<std::string> was_asked(asked.begin(), asked.end());
  std::unordered_map<std::string, shopify::ItemIds> found;
  if (!asked.empty()) {
    found = co_await shopify::find_skus(*client_, asked);
    std::vector<std::pair<std::string, shopify::ItemIds>> entries(found.begin(), found.end());
    auto remember = [this, &entries] { id_map_->put(entries); };
    co_await async::offload(context.pool, remember);
    pb::log::info(log::Fields{connection_}, "looked up {} SKUs in Shopify: {} found", asked.size(),
                  found.size());
  }
  for (const auto i : which) {
    if (auto it = found.find(skus[i]); it != found.end()) {
      ids[i] = std::move(it->second);
    } else if (was_asked.count(skus[i]) != 0) {
      verdicts[i] = rejected(not_found);
    } else {
      verdicts[i] = rejected(fmt::format("{} (not looked up: this run's {} lookups are used up)",
                                         not_found, kLookupsPerRun));
    }
  }
}

asio::awaitable<std::vector<PushResult>> ShopifyStore::push(std::vector<PushItem> batch,
                                                            PushContext context) {
  if (!prepared_ && !refused_) co_await prepare(context);
  if (refused_) throw StoreError(*refused_, StoreError::Retry::no);
  const auto reference_uri = shopify::reference_document_uri(context.run_reference);
  std::vector<std::string> skus;
  skus.reserve(batch.size());
  for (const auto& item : batch) skus.push_back(item.sku);
  std::vector<std::optional<PushResult>> verdicts(batch.size());

  for (std::size_t i = 0; i < batch.size(); ++i)
    if (batch[i].quantity > shopify::kMaxAbsQuantity ||
        batch[i].quantity < -shopify::kMaxAbsQuantity)
      verdicts[i] = rejected(fmt::format("quantity {} is beyond Shopify's limit of ±1,000,000,000",
                                         batch[i].quantity));

  auto find_ids = [this, &skus] { return id_map_->find(skus); };
  auto ids = co_await async::offload(context.pool, find_ids);
  std::vector<std::size_t> unknown;
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (!verdicts[i] && ids[i].empty()) unknown.push_back(i);
  if (!unknown.empty()) {
    const std::string not_found = "SKU not found in the Shopify catalogue";
    co_await look_up(unknown, skus, ids, verdicts, context, not_found);
  }

  std::vector<Line> lines;
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (!verdicts[i])
      for (const auto& id : ids[i]) lines.push_back({i, id, Fate::pending, {}});
  co_await send_lines(lines, batch, reference_uri);

  // Items Shopify no longer knows (a variant deleted, or recreated under a new
  // item): forget the SKU's ids, look it up again, and send it once more.
  std::set<std::size_t> stale_set;
  for (const auto& line : lines)
    if (line.fate == Fate::refresh) stale_set.insert(line.item);
  const std::vector<std::size_t> stale(stale_set.begin(), stale_set.end());
  if (!stale.empty()) {
    std::vector<std::string> stale_skus;
    for (const auto i : stale) stale_skus.push_back(skus[i]);
    auto forget = [this, &stale_skus] { id_map_->erase(stale_skus); };
    co_await async::offload(context.pool, forget);
    for (const auto i : stale) ids[i].clear();
    const std::string gone =
        "SKU no longer in the Shopify catalogue (its inventory item was deleted)";
    co_await look_up(stale, skus, ids, verdicts, context, gone);
    // The SKU's first-pass lines no longer count: the second pass decides.
    std::erase_if(lines, [&](const Line& l) { return stale_set.count(l.item) != 0; });
    std::vector<Line> again;
    for (const auto i : stale)
      if (!verdicts[i])
        for (const auto& id : ids[i]) again.push_back({i, id, Fate::pending, {}});
    co_await send_lines(again, batch, reference_uri);
    for (auto& line : again) {
      if (line.fate == Fate::refresh) line.fate = Fate::rejected;  // retried once: enough
      lines.push_back(std::move(line));
    }
  }

  // A SKU's verdict from its lines: rejected if any was, else transient if
  // any was, else confirmed (Shopify now holds the quantity on every item).
  for (const auto& line : lines) {
    auto& verdict = verdicts[line.item];
    if (line.fate == Fate::rejected) {
      if (!verdict || verdict->outcome != PushOutcome::rejected) verdict = rejected(line.message);
    } else if (line.fate == Fate::transient || line.fate == Fate::pending) {
      if (!verdict || verdict->outcome == PushOutcome::confirmed)
        verdict = PushResult{PushOutcome::transient,
                             line.message.empty() ? "not confirmed by Shopify" : line.message};
    } else if (!verdict) {
      verdict = PushResult{PushOutcome::confirmed, {}};
    }
  }
  std::vector<PushResult> results;
  results.reserve(batch.size());
  for (auto& verdict : verdicts)
    results.push_back(verdict ? std::move(*verdict)
                              : PushResult{PushOutcome::transient, "no inventory item to set"});
  co_return results;
}

// Sends `lines` in calls of at most 250 quantities.
asio::awaitable<void> ShopifyStore::send_lines(std::vector<Line>& lines,
                                               const std::vector<PushItem>& batch,
                                               const std::string& reference_uri) {
  for (std::size_t from = 0; from < lines.size(); from += shopify::kMaxQuantitiesPerCall) {
    const auto to = std::min(lines.size(), from + shopify::kMaxQuantitiesPerCall);
    std::vector<std::size_t> chunk;
    for (auto i = from; i < to; ++i) chunk.push_back(i);
    co_await send_rounds(lines, std::move(chunk), batch, reference_uri);
  }
}

// One group of quantities until each has a fate. Shopify applies a call all or
// nothing: after user errors, the lines they name get their fate and the rest
// go again (a new key, since the content changed). User errors that name no
// quantity make every line of the call transient, with Shopify's message.
asio::awaitable<void> ShopifyStore::send_rounds(std::vector<Line>& lines,
                                                std::vector<std::size_t> pending,
                                                const std::vector<PushItem>& batch,
                                                const std::string& reference_uri) {
  unsigned generation = 0;
  int key_resets = 0, concurrent_waits = 0, rounds = 0;
  while (!pending.empty()) {
    std::vector<shopify::QuantityInput> quantities;
    quantities.reserve(pending.size());
    for (const auto i : pending)
      quantities.push_back({lines[i].inventory_item_id, batch[lines[i].item].quantity});
    const auto key =
        shopify::idempotency_key(reference_uri, config_.location_id, quantities, generation);
    auto body = shopify::request_body(
        shopify::kSetQuantitiesMutation,
        shopify::set_quantities_variables(key, reference_uri, config_.location_id, quantities));
    const auto reply = co_await client_->call(shopify::CallKind::set_quantities, std::move(body));
    std::vector<shopify::UserError> errors;
    try {
      errors = shopify::read_set_quantities(reply.data);
    } catch (const std::runtime_error& e) {
      throw StoreError(e.what(), StoreError::Retry::no);
    }
    if (errors.empty()) {
      for (const auto i : pending) lines[i].fate = Fate::confirmed;
      co_return;
    }

    const shopify::UserError* general = nullptr;
    for (const auto& e : errors) {
      // The configuration's fault (or ours), the same for every quantity: no retry mends it.
      if (e.code == "INVALID_LOCATION")
        throw StoreError(
            "Shopify does not know location " + config_.location_id + ": check location_id",
            StoreError::Retry::no);
      if (e.code == "INVALID_NAME" || e.code == "INVALID_REASON" ||
          e.code == "INVALID_REFERENCE_DOCUMENT")
        throw StoreError("Shopify refused the call: " + describe_error(e), StoreError::Retry::no);
      if (!general && (!e.quantity_index || *e.quantity_index >= pending.size())) general = &e;
    }
    if (general != nullptr) {
      if ((general->code == "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED" ||
           general->code == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH") &&
          ++key_resets <= kMaxKeyResets) {
        ++generation;  // that key failed without applying anything: a new one is safe
        continue;
      }
      if (general->code == "IDEMPOTENCY_CONCURRENT_REQUEST" &&
          ++concurrent_waits <= kMaxConcurrentWaits) {
        co_await sleep_for(kConcurrentWait * concurrent_waits);
        continue;  // same key: whichever attempt finishes first applies it
      }
      for (const auto i : pending) {
        lines[i].fate = Fate::transient;
        lines[i].message = describe_error(*general);
      }
      co_return;
    }

    for (const auto& e : errors) {
      auto& line = lines[pending[*e.quantity_index]];
      if (line.fate != Fate::pending) continue;  // its first error tells
      line.fate = e.code == "INVALID_INVENTORY_ITEM" ? Fate::refresh : Fate::rejected;
      line.message = describe_error(e) + " on " + line.inventory_item_id;
    }
    std::erase_if(pending, [&](std::size_t i) { return lines[i].fate != Fate::pending; });
    if (!pending.empty() && ++rounds >= kMaxRounds) {
      for (const auto i : pending) {
        lines[i].fate = Fate::transient;
        lines[i].message = fmt::format(
            "not sent: Shopify rejected other quantities of its call {} times in a row", rounds);
      }
      co_return;
    }
  }
}

}  // namespace pb::connectors
