#include "service/command_handlers.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <memory>

#include <fmt/format.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>

#include "async/offload.hpp"
#include "control/commands.hpp"
#include "log/log.hpp"
#include "service/json_views.hpp"
#include "service/paged_replies.hpp"
#include "service/service.hpp"
#include "sys/groups.hpp"

namespace pb::service {
namespace asio = boost::asio;
namespace json = boost::json;
using control::CommandId;
using control::Reply;
using control::Status;

namespace {

constexpr std::chrono::milliseconds kProgressInterval{250};
constexpr std::uint64_t kDefaultHistoryLimit = 20;
// What one history reply may carry: well under a frame (16 MiB).
constexpr std::size_t kHistoryBytes = std::size_t{4} << 20;

std::uint64_t limit_arg(const json::object& args, std::uint64_t fallback) {
  if (auto it = args.find("limit"); it != args.end()) return it->value().to_number<std::uint64_t>();
  return fallback;
}

std::string known_connections(const Service& service) {
  std::string names;
  for (const auto& r : service.runners()) {
    if (!names.empty()) names += ", ";
    names += r->config().name;
  }
  return names.empty() ? "none configured" : "known: " + names;
}

std::string connection_arg(const json::object& args) {
  return std::string(args.at(control::kConnectionArg).as_string());
}

// A connection's runner, or the reply to send when there is no such connection.
struct RunnerLookup {
  std::shared_ptr<sync::ConnectionRunner> runner;  // null when not found
  Reply failure;                                   // unknown_connection when not found
};

RunnerLookup find_runner(const Service& service, const std::string& name) {
  if (auto runner = service.runner(name)) return {std::move(runner), Reply::success()};
  return {nullptr,
          Reply::failure(Status::unknown_connection, "no connection named '" + name + "' (" +
                                                         known_connections(service) + ")")};
}

}  // namespace

constexpr CommandHandlers::HandlerEntry CommandHandlers::handler_for(CommandId id) {
  switch (id) {
    case CommandId::status:
      return {&CommandHandlers::status, true};
    case CommandId::full_sync:
      return {&CommandHandlers::full_sync, true};
    case CommandId::sync:
      return {&CommandHandlers::sync, true};
    case CommandId::inventory:
      return {&CommandHandlers::inventory, true};
    case CommandId::connections:
      return {&CommandHandlers::connections, true};
    case CommandId::history:
      return {&CommandHandlers::history, true};
    case CommandId::diff:
      return {&CommandHandlers::diff, true};
    case CommandId::pause:
      return {&CommandHandlers::pause, true};
    case CommandId::resume:
      return {&CommandHandlers::resume, true};
    case CommandId::reload:
      return {&CommandHandlers::reload, true};
    case CommandId::count_:
      break;
  }
  return {};
}

// Mutating commands: root, the user beed runs as, or a member of
// daemon.admin_group. (Read access is the socket's 0660 mode: its owner and
// group.)
bool CommandHandlers::may_mutate(const control::PeerCredentials& peer) const {
  if (peer.uid == 0 || peer.uid == geteuid()) return true;
  const auto& admin = service_.config().daemon.admin_group;
  if (admin.empty()) return false;
  const auto gid = sys::lookup_group(admin);
  return gid && (peer.gid == *gid || sys::user_in_group(peer.uid, *gid));
}

asio::awaitable<Reply> CommandHandlers::handle(const control::Request& request,
                                               const control::PeerCredentials& peer,
                                               control::EventSink& events) {
  const auto* command = control::find_command(request.command);
  if (!command)
    co_return Reply::failure(Status::unknown_command, "unknown command '" + request.command + "'");
  if (auto problem = control::validate_args(*command, request.args); !problem.empty())
    co_return Reply::failure(Status::bad_request, problem);
  if (command->mutates && !may_mutate(peer)) {
    log::warn(
        "refused '{}' from uid {} (pid {}): mutating commands need root, uid {} or the "
        "admin group",
        request.command, peer.uid, peer.pid, geteuid());
    co_return Reply::failure(Status::permission_denied,
                             "'" + request.command +
                                 "' changes state and needs root, the user beed runs as, or "
                                 "membership of daemon.admin_group");
  }
  if (command->mutates && service_.stopping())
    co_return Reply::failure(Status::shutting_down, "beed is shutting down");

  static constexpr auto kHandlers = [] {
    std::array<HandlerEntry, control::kCommandCount> table{};
    for (std::size_t i = 0; i < table.size(); ++i)
      table[i] = handler_for(static_cast<CommandId>(i));
    return table;
  }();
  static_assert(std::ranges::all_of(kHandlers, [](const HandlerEntry& e) { return e.found; }),
                "every command in the table needs a handler");
  const Handler handler = kHandlers[static_cast<std::size_t>(command->id)].handler;
  co_return co_await (this->*handler)(request.args, events);
}

asio::awaitable<Reply> CommandHandlers::status(const json::object&, control::EventSink&) {
  json::array connections;
  for (const auto& runner : service_.runners()) {
    const auto& name = runner->config().name;
    std::optional<state::RunRecord> last;
    // One LMDB lookup: microseconds, fine on the loop.
    service_.db().read(name, [&](state::ConnectionTxn& txn) { last = txn.last_run(); });
    json::object c{
        {"name", name},
        {"state", runner->state_name()},
        {"paused", runner->paused()},
        {"next_sync_at", time_json(runner->next_due_at())},
        {"next_full_sync_at",
         runner->next_full_at() == 0 ? json::value(nullptr) : time_json(runner->next_full_at())}};
    c["last_sync"] = last ? json::value(run_summary_json(*last)) : json::value(nullptr);
    if (const auto& progress = runner->current())
      c["progress"] = progress_json(*progress, progress->run_id);
    connections.push_back(std::move(c));
  }
  co_return Reply::success(json::object{{"version", PACKAGEBEE_VERSION},
                                        {"uptime_s", (now_millis() - service_.started_at()) / 1000},
                                        {"connections", std::move(connections)}});
}

asio::awaitable<Reply> CommandHandlers::connections(const json::object&, control::EventSink&) {
  json::array list;
  for (const auto& runner : service_.runners()) {
    const auto& cfg = runner->config();
    list.push_back(
        json::object{{"name", cfg.name},
                     {"warehouse", runner->warehouse()->describe()},
                     {"store", runner->store()->describe()},
                     {"schedule_s", cfg.inventory.schedule.count()},
                     {"automatic", to_string(cfg.inventory.automatic)},
                     {"full_schedule", cfg.inventory.full_schedule
                                           ? json::value(to_string(*cfg.inventory.full_schedule))
                                           : json::value(nullptr)},
                     {"state", runner->state_name()},
                     {"paused", runner->paused()}});
  }
  co_return Reply::success(json::object{{"connections", std::move(list)}});
}

// Not coroutines: they hand back request_sync's, which handle() awaits at once
// while `args` and `events` are alive.
asio::awaitable<Reply> CommandHandlers::full_sync(const json::object& args,
                                                  control::EventSink& events) {
  return request_sync(args, SyncKind::full, events);
}

asio::awaitable<Reply> CommandHandlers::sync(const json::object& args, control::EventSink& events) {
  return request_sync(args, SyncKind::smart, events);
}

asio::awaitable<Reply> CommandHandlers::request_sync(const json::object& args, SyncKind kind,
                                                     control::EventSink& events) {
  const std::string name = connection_arg(args);
  auto found = find_runner(service_, name);
  if (!found.runner) co_return std::move(found.failure);
  const auto runner = std::move(found.runner);
  const auto allow_zeroing = args.find("allow-zeroing");
  const auto ticket = runner->request(
      kind, Trigger::manual, allow_zeroing != args.end() && allow_zeroing->value().as_bool());
  // `queued`: behind this connection's run in flight. A run launched at once may still wait
  // for one of the max_concurrent_syncs slots: when as many other connections' runs are in
  // flight (a run is in flight from its launch, so those hold every slot or wait for one).
  const auto max_runs = service_.config().daemon.max_concurrent_syncs;
  const auto others_in_flight =
      std::count_if(service_.runners().begin(), service_.runners().end(),
                    [&](const auto& other) { return other != runner && other->syncing(); });
  const bool waits_for_slot =
      !ticket.queued && static_cast<std::size_t>(others_in_flight) >= max_runs;
  log::info({.connection = name, .sync = to_string(ticket.kind), .run = ticket.run_id},
            "{} sync requested on the control socket: run {}{}", to_string(kind), ticket.run_id,
            ticket.queued    ? std::string(" (queued)")
            : waits_for_slot ? fmt::format(" (queued for a sync slot: {} runs in flight, "
                                           "max_concurrent_syncs {})",
                                           others_in_flight, max_runs)
                             : std::string());
  const auto wait = args.find("wait");
  if (wait == args.end() || !wait->value().as_bool()) {
    json::object reply{{"connection", name},
                       {"run_id", ticket.run_id},
                       {"kind", to_string(ticket.kind)},
                       {"queued", ticket.queued}};
    if (waits_for_slot) reply["waits_for_slot"] = true;  // absent otherwise, as from older beeds
    co_return Reply::success(std::move(reply));
  }

  asio::steady_timer timer(co_await asio::this_coro::executor);
  // The runner cancels the timer when a run ends, so the reply leaves at once rather than at
  // the next progress tick.
  runner->watch(&timer);
  struct Unwatch {
    sync::ConnectionRunner& runner;
    asio::steady_timer* timer;
    ~Unwatch() { runner.unwatch(timer); }
  } unwatch{*runner, &timer};
  while (!runner->finished(ticket.run_id)) {
    const auto& progress = runner->current();
    // A run that starts at once is `queued` only until its first step: not worth a line
    // that says it waits.
    const bool starting = progress != nullptr && progress->run_id == ticket.run_id &&
                          progress->phase == sync::RunPhase::queued && !waits_for_slot;
    if (progress != nullptr && !starting) {
      control::Event event{"progress", progress_json(*progress, ticket.run_id)};
      if (!co_await events.send(std::move(event))) co_return Reply::success();  // client gone
    }
    if (runner->finished(ticket.run_id)) break;
    timer.expires_after(kProgressInterval);
    boost::system::error_code ignored;  // operation_aborted: a run ended
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  std::optional<state::RunRecord> run;
  service_.db().read(name, [&](state::ConnectionTxn& txn) { run = txn.run(ticket.run_id); });
  if (!run && service_.runner(name) != runner)
    co_return Reply::failure(Status::refused, "connection '" + name +
                                                  "' was removed by a reload before run " +
                                                  std::to_string(ticket.run_id) + " started");
  if (!run && service_.stopping())
    co_return Reply::failure(Status::shutting_down, "beed stopped before run " +
                                                        std::to_string(ticket.run_id) + " started");
  if (!run)
    co_return Reply::failure(Status::internal,
                             "run " + std::to_string(ticket.run_id) + " ended without a record");
  co_return Reply::success(run_json(name, *run));
}

asio::awaitable<Reply> CommandHandlers::inventory(const json::object& args,
                                                  control::EventSink& events) {
  if (auto found = find_runner(service_, connection_arg(args)); !found.runner)
    co_return std::move(found.failure);
  // An lvalue, not a temporary, as a coroutine's argument (g++ 12 frees a temporary twice).
  const ReadLimits limits = co_await read_limits();
  co_return co_await inventory_reply(service_, limits, args, events);
}

asio::awaitable<Reply> CommandHandlers::history(const json::object& args, control::EventSink&) {
  const std::string name = connection_arg(args);
  if (auto found = find_runner(service_, name); !found.runner) co_return std::move(found.failure);
  auto limit = limit_arg(args, kDefaultHistoryLimit);
  if (limit == 0) limit = state::kRunsKept;
  std::vector<state::RunRecord> runs;
  // At most kRunsKept records: a bounded read, fine on the loop.
  service_.db().read(name, [&](state::ConnectionTxn& txn) { runs = txn.runs(limit); });
  // Runs are small, but a run's error may be a store's long answer: the reply stays within the
  // bytes of one page, and says so when that left runs out.
  json::array list;
  std::size_t bytes = 0;
  bool truncated = false;
  for (const auto& run : runs) {
    const std::size_t run_bytes = 400 + 6 * (run.error.size() + name.size());
    if (!list.empty() && bytes + run_bytes > kHistoryBytes) {
      truncated = true;
      break;
    }
    bytes += run_bytes;
    list.push_back(run_json(name, run));
  }
  json::object data{{"connection", name}, {"runs", std::move(list)}};
  if (truncated) data["truncated"] = true;
  co_return Reply::success(std::move(data));
}

asio::awaitable<Reply> CommandHandlers::diff(const json::object& args, control::EventSink& events) {
  auto found = find_runner(service_, connection_arg(args));
  if (!found.runner) co_return std::move(found.failure);
  const auto runner = std::move(found.runner);
  const ReadLimits limits = co_await read_limits();
  co_return co_await diff_reply(service_, limits, *runner, args, events);
}

asio::awaitable<ReadLimits> CommandHandlers::read_limits() {
  if (!scans_) {
    const auto executor = co_await asio::this_coro::executor;
    scans_.emplace(executor, kScanSlots);
    diffs_.emplace(executor, kDiffSlots);
  }
  co_return ReadLimits{*scans_, *diffs_};
}

// Not coroutines, as full_sync and sync above.
asio::awaitable<Reply> CommandHandlers::pause(const json::object& args, control::EventSink&) {
  return set_paused(args, true);
}

asio::awaitable<Reply> CommandHandlers::resume(const json::object& args, control::EventSink&) {
  return set_paused(args, false);
}

asio::awaitable<Reply> CommandHandlers::set_paused(const json::object& args, bool paused) {
  const std::string name = connection_arg(args);
  auto found = find_runner(service_, name);
  if (!found.runner) co_return std::move(found.failure);
  const auto runner = std::move(found.runner);
  co_await runner->set_paused(paused);
  log::info({.connection = name}, "automatic syncs {}", paused ? "paused" : "resumed");
  co_return Reply::success(json::object{
      {"connection", name},
      {"paused", runner->paused()},
      {"next_sync_at", paused ? json::value(nullptr) : time_json(runner->next_due_at())}});
}

asio::awaitable<Reply> CommandHandlers::reload(const json::object&, control::EventSink&) {
  // Said apart from a refused configuration: the file may be fine, this is not the moment.
  if (service_.stopping()) co_return Reply::failure(Status::shutting_down, "beed is shutting down");
  if (service_.reloading())
    co_return Reply::failure(Status::busy,
                             "a reload is already in progress; try again when it ends");
  ReloadSummary summary;
  try {
    summary = co_await service_.reload();
  } catch (const std::exception& e) {
    log::error("reload refused, the running configuration stays: {}", e.what());
    co_return Reply::failure(Status::invalid_config, e.what());
  }
  auto names = [](const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
  };
  co_return Reply::success(json::object{{"added", names(summary.added)},
                                        {"removed", names(summary.removed)},
                                        {"changed", names(summary.changed)},
                                        {"unchanged", summary.unchanged},
                                        {"restart_required", names(summary.restart_required)}});
}

}  // namespace pb::service
