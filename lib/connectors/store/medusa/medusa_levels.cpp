#include "connectors/store/medusa/medusa_levels.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "async/for_each_bounded.hpp"
#include "connectors/store/refusal_isolation.hpp"
#include "net/url.hpp"

namespace pb::connectors::medusa {
namespace {

constexpr std::string_view kBatchRoute = "/admin/inventory-items/location-levels/batch";

// The server has no batch route: thrown out of the isolation, caught by the chunk.
struct NoBatchRoute {};

std::string item_path(const LevelWrite& w, std::string_view location_id) {
  auto path = "/admin/inventory-items/" + net::url_encode(w.item_id) + "/location-levels";
  if (!w.create) path += "/" + net::url_encode(location_id);
  return path;
}

boost::asio::awaitable<PushResult> write_one(Api& api, const LevelWrite& w,
                                             std::string_view location_id, WriteStats& stats) {
  const auto body =
      w.create ? level_create_body(location_id, w.quantity) : level_update_body(w.quantity);
  const auto path = item_path(w, location_id);
  try {
    auto reply = co_await api.post(path, body);
    ++stats.requests;
    if (!reply.ok()) {
      ++stats.refused_requests;
      co_return PushResult{PushOutcome::rejected, api.redact(describe_error(reply.response))};
    }
    if (auto wrong = check_item_reply(reply.body, w, location_id))
      co_return PushResult{PushOutcome::transient, *wrong};
    co_return PushResult{};
  } catch (const RequestError& e) {
    if (stats.failed_requests++ == 0) stats.first_failure = e.what();
    co_return PushResult{PushOutcome::transient, e.what()};
  }
}

boost::asio::awaitable<void> write_each(Api& api, std::span<const LevelWrite> writes,
                                        std::string_view location_id, WriteStats& stats,
                                        std::span<PushResult> out) {
  const async::IndexedTask task = [&](std::size_t i) -> boost::asio::awaitable<void> {
    out[i] = co_await write_one(api, writes[i], location_id, stats);
  };
  co_await async::for_each_bounded(writes.size(), kItemConcurrency, task);
}

// One chunk through the batch route, split while refused until the refused items stand alone.
boost::asio::awaitable<void> write_chunk(Api& api, std::span<const LevelWrite> writes,
                                         std::string_view location_id, WriteRoute& route,
                                         WriteStats& stats, std::span<PushResult> out) {
  auto send = [&](std::span<const LevelWrite> part) -> boost::asio::awaitable<WholeBatchVerdict> {
    auto reply = co_await api.post(std::string(kBatchRoute), batch_body(part, location_id));
    if (reply.ok()) {
      route = WriteRoute::batch;
      if (auto wrong = check_batch_reply(reply.body, part, location_id)) throw RequestError(*wrong);
      co_return WholeBatchVerdict::taken();
    }
    if (route != WriteRoute::batch && route_missing(reply.response)) throw NoBatchRoute{};
    co_return WholeBatchVerdict::refused(api.redact(describe_error(reply.response)));
  };
  try {
    IsolationStats isolation;
    auto results = co_await push_isolating_refusals(writes, send, &isolation);
    stats.requests += isolation.calls;
    stats.refused_requests += isolation.refused_calls;
    std::move(results.begin(), results.end(), out.begin());
    co_return;
  } catch (const RequestError& e) {
    if (stats.failed_requests++ == 0) stats.first_failure = e.what();
    for (auto& r : out) r = PushResult{PushOutcome::transient, e.what()};
    co_return;
  } catch (const NoBatchRoute&) {
    route = WriteRoute::per_item;
  }
  co_await write_each(api, writes, location_id, stats, out);
}

}  // namespace

boost::asio::awaitable<std::vector<PushResult>> write_levels(Api& api,
                                                             std::span<const LevelWrite> writes,
                                                             std::string_view location_id,
                                                             WriteRoute& route, WriteStats& stats) {
  std::vector<PushResult> results(writes.size());
  const std::span<PushResult> out(results);
  if (route == WriteRoute::per_item) {
    co_await write_each(api, writes, location_id, stats, out);
    co_return results;
  }
  const std::size_t chunks = (writes.size() + kBatchLimit - 1) / kBatchLimit;
  // Until one batch request has told which route the server has, one chunk at a time.
  const std::size_t in_flight = route == WriteRoute::batch ? kBatchConcurrency : 1;
  const async::IndexedTask task = [&](std::size_t k) -> boost::asio::awaitable<void> {
    const auto begin = k * kBatchLimit;
    const auto size = std::min(kBatchLimit, writes.size() - begin);
    co_await write_chunk(api, writes.subspan(begin, size), location_id, route, stats,
                         out.subspan(begin, size));
  };
  co_await async::for_each_bounded(chunks, in_flight, task);
  co_return results;
}

}  // namespace pb::connectors::medusa
