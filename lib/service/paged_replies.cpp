#include "service/paged_replies.hpp"

#include <malloc.h>

#include <optional>
#include <string>
#include <utility>

#include "async/offload.hpp"
#include "connectors/warehouse/warehouse.hpp"
#include "control/commands.hpp"
#include "service/diff_pages.hpp"
#include "service/inventory_pages.hpp"
#include "service/service.hpp"
#include "sync/connection_runner.hpp"

namespace pb::service {
namespace asio = boost::asio;
namespace json = boost::json;
using control::Reply;
using control::Status;

namespace {

constexpr std::uint64_t kDefaultInventoryLimit = 1000;
constexpr std::uint64_t kDefaultDiffLimit = 1000;
// A feed this large leaves freed arenas behind that glibc does not return by itself.
constexpr std::size_t kTrimAfterRows = 100'000;

std::uint64_t limit_arg(const json::object& args, std::uint64_t fallback) {
  if (auto it = args.find("limit"); it != args.end()) return it->value().to_number<std::uint64_t>();
  return fallback;
}

bool flag_arg(const json::object& args, std::string_view key) {
  const json::value* v = args.if_contains(key);
  return v != nullptr && v->as_bool();
}

std::optional<std::string> after_arg(const json::object& args) {
  if (const json::value* v = args.if_contains("after")) return std::string(v->as_string());
  return std::nullopt;
}

// `next_after` only in a listing cut short, so that a complete one reads as it did before pages.
void add_next_after(json::object& data, const std::optional<std::string>& next_after) {
  if (next_after) data["next_after"] = *next_after;
}

Reply busy(std::string_view what, std::chrono::milliseconds patience) {
  return Reply::failure(Status::refused, "too many " + std::string(what) + " in progress (waited " +
                                             std::to_string(patience.count() / 1000) +
                                             " s); try again");
}

// A long listing does not hold up beed's shutdown.
Reply stopping() {
  return Reply::failure(Status::refused, "beed is shutting down");
}

// One step of `pager` on the pool, holding a scan slot; false when no slot came in time.
template <class Pager>
asio::awaitable<bool> step_on_pool(Service& service, ReadLimits limits, Pager& pager) {
  if (!co_await limits.scans.try_acquire_for(limits.patience)) co_return false;
  const async::SemaphorePermit slot(limits.scans);
  co_await async::offload(service.pool(), [&pager] { pager.step(); });
  co_return true;
}

}  // namespace

asio::awaitable<Reply> inventory_reply(Service& service, ReadLimits limits,
                                       const json::object& args, control::EventSink& events) {
  InventoryQuery query;
  query.connection = std::string(args.at(control::kConnectionArg).as_string());
  if (const json::value* sku = args.if_contains("sku")) {
    const std::string_view glob = sku->as_string();
    if (auto problem = SkuGlob::problem(glob); !problem.empty())
      co_return Reply::failure(Status::bad_request, std::move(problem));
    if (!glob.empty()) query.glob.emplace(std::string(glob));
  }
  query.changed_only = flag_arg(args, "changed");
  query.after = after_arg(args);
  query.limit = limit_arg(args, kDefaultInventoryLimit);
  const bool stream = flag_arg(args, "stream");
  const std::string name = query.connection;

  InventoryPager pager(service.db(), std::move(query));
  for (;;) {
    if (service.stopping()) co_return stopping();
    if (!co_await step_on_pool(service, limits, pager))
      co_return busy("catalogue reads", limits.patience);
    if (!pager.ready()) continue;
    InventoryPage page = pager.take();
    if (page.last || !stream) {
      json::object data{{"connection", name},
                        {"items", std::move(page.items)},
                        {"truncated", page.truncated || !page.last}};
      add_next_after(data, page.next_after);
      co_return Reply::success(std::move(data));
    }
    control::Event event{"items", json::object{{"items", std::move(page.items)}}};
    if (!co_await events.send(std::move(event))) co_return Reply::success();  // client gone
  }
}

asio::awaitable<Reply> diff_reply(Service& service, ReadLimits limits,
                                  sync::ConnectionRunner& runner, const json::object& args,
                                  control::EventSink& events) {
  const std::string name(args.at(control::kConnectionArg).as_string());
  const bool stream = flag_arg(args, "stream");
  if (!co_await limits.diffs.try_acquire_for(limits.patience))
    co_return busy("diffs", limits.patience);
  const async::SemaphorePermit slot(limits.diffs);
  const auto warehouse = runner.warehouse();
  const auto rules = sync::Rules::from(runner.config().inventory);
  connectors::Feed feed;
  try {
    // A dry run compares the whole current snapshot with what is stored.
    const connectors::ReadRequest whole{SyncKind::full, {}, {}};
    feed = co_await warehouse->read(service.pool(), whole);
  } catch (const connectors::WarehouseError& e) {
    co_return Reply::failure(Status::refused,
                             std::string("cannot read the warehouse: ") + e.what());
  }
  // However the reply ends, a big feed's memory goes back to the system.
  struct Trim {
    connectors::Feed& feed;
    ~Trim() {
      const bool big = feed.rows.size() >= kTrimAfterRows;
      feed = {};
      if (big) malloc_trim(0);
    }
  } trim{feed};

  DiffPager pager(service.db(), name, feed, rules, after_arg(args),
                  limit_arg(args, kDefaultDiffLimit));
  const auto reply = [&](DiffPage& page) {
    json::object data{{"connection", name},       {"feed", feed.origin},
                      {"read", feed.rows.size()}, {"bad_rows", feed.problems.size()},
                      {"total", page.total},      {"truncated", page.truncated}};
    add_next_after(data, page.next_after);
    data["changes"] = std::move(page.changes);
    return Reply::success(std::move(data));
  };
  for (;;) {
    if (service.stopping()) co_return stopping();
    if (!co_await step_on_pool(service, limits, pager))
      co_return busy("catalogue reads", limits.patience);
    if (!pager.ready()) continue;
    DiffPage page = pager.take();
    if (page.last) co_return reply(page);
    if (!stream) {
      // One page only, but its total counts every change.
      pager.count_only();
      while (!pager.ready())
        if (!co_await step_on_pool(service, limits, pager))
          co_return busy("catalogue reads", limits.patience);
      page.total = pager.take().total;
      page.truncated = true;
      co_return reply(page);
    }
    control::Event event{"changes", json::object{{"changes", std::move(page.changes)}}};
    if (!co_await events.send(std::move(event))) co_return Reply::success();  // client gone
  }
}

}  // namespace pb::service
