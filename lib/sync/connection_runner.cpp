#include "sync/connection_runner.hpp"

#include "sync/change_detector_digest.hpp"

#include <algorithm>
#include <chrono>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "async/offload.hpp"
#include "log/log.hpp"
#include "sync/alert_hook.hpp"
#include "sync/idle_memory_release.hpp"
#include "sync/run_records.hpp"

namespace pb::sync {
namespace asio = boost::asio;

ConnectionRunner::ConnectionRunner(RunnerDeps deps, config::ConnectionConfig config,
                                   std::shared_ptr<connectors::Warehouse> warehouse,
                                   std::shared_ptr<connectors::Store> store)
    : deps_(std::move(deps)),
      config_(std::move(config)),
      warehouse_(std::move(warehouse)),
      store_(std::move(store)),
      timer_(deps_.loop),
      full_timer_(deps_.loop),
      alerts_(std::make_shared<AlertQueue>(deps_.loop, deps_.pool)) {}

void ConnectionRunner::start(bool run_soon) {
  // One small read at startup, before the loop serves anyone: fine to block.
  state::ConnectionRecord record;
  deps_.db.read(config_.name, [&](state::ConnectionTxn& txn) { record = txn.connection(); });
  next_run_id_ = record.next_run_id;
  full_done_ = record.last_full_ok_at != 0;
  paused_ = record.paused;
  // A connection never scheduled before starts right away with its first
  // (Full) run; so does one whose last run was cut short.
  next_due_at_ = (record.next_due_at == 0 || run_soon) ? now_millis() : record.next_due_at;
  stopped_ = false;
  // A `full_schedule` slot that passed while beed was down, with no Full Sync since, is made
  // up at once (as systemd's Persistent=true timers do).
  if (const auto& schedule = config_.inventory.full_schedule; schedule && full_done_) {
    const auto missed = last_at_or_before(*schedule, now_millis());
    if (missed && record.last_full_ok_at < *missed) {
      next_due_at_ = now_millis();
      full_owed_ = true;
    }
  }
  arm_timer();
  arm_full_timer();
}

void ConnectionRunner::stop(bool cancel_run) {
  stopped_ = true;
  control_.set_cancel(cancel_run);
  queued_.reset();
  timer_.cancel();
  full_timer_.cancel();
}

void ConnectionRunner::reconfigure(config::ConnectionConfig config,
                                   std::shared_ptr<connectors::Warehouse> warehouse,
                                   std::shared_ptr<connectors::Store> store) {
  const auto old_schedule = config_.inventory.schedule;
  const auto old_full_schedule = config_.inventory.full_schedule;
  config_ = std::move(config);
  warehouse_ = std::move(warehouse);
  store_ = std::move(store);
  if (config_.inventory.full_schedule != old_full_schedule) {
    full_due_at_ = 0;
    arm_full_timer();
  }
  if (config_.inventory.schedule != old_schedule) {
    // A shorter schedule takes effect now rather than after the old interval.
    const auto sooner =
        now_millis() +
        std::chrono::duration_cast<std::chrono::milliseconds>(config_.inventory.schedule).count();
    next_due_at_ = std::min(next_due_at_, sooner);
    arm_timer();
  }
}

void ConnectionRunner::revive(config::ConnectionConfig config,
                              std::shared_ptr<connectors::Warehouse> warehouse,
                              std::shared_ptr<connectors::Store> store) {
  // Not start(): the record is behind this runner (its run in flight took the next run id and
  // due time in memory first), so the runner's own state is the one to keep.
  stopped_ = false;
  reconfigure(std::move(config), std::move(warehouse), std::move(store));
  arm_timer();
  arm_full_timer();
  changed();
}

std::string_view ConnectionRunner::state_name() const {
  if (syncing_) return "syncing";
  return paused_ ? "paused" : "idle";
}

boost::asio::awaitable<void> ConnectionRunner::set_paused(bool paused) {
  co_await async::offload(deps_.pool, [&] {
    deps_.db.write(config_.name, [&](state::ConnectionTxn& txn) {
      auto record = txn.connection();
      record.paused = paused;
      txn.put_connection(record);
    });
  });
  paused_ = paused;
  // A catalogue walk may take many minutes and keeps its place (a checkpoint per page or
  // chunk), so a pause stops it now and the next run goes on from there; a push in progress
  // still finishes, as documented: its batches are confirmed as they go and it is short.
  if (paused && syncing_ && control_.progress.phase == RunPhase::mapping) control_.set_cancel(true);
  if (paused) {
    timer_.cancel();
    full_timer_.cancel();
  } else {
    arm_timer();
    arm_full_timer();
  }
  changed();
}

void ConnectionRunner::arm_timer() {
  if (stopped_ || paused_) return;
  const auto delay = std::max<UnixMillis>(0, next_due_at_ - now_millis());
  // The timer is steady (immune to clock steps); the due time kept in LMDB
  // is wall-clock so that it means the same after a restart.
  timer_.expires_after(std::chrono::milliseconds(delay));
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    const auto self = weak.lock();
    if (ec || !self || self->stopped_ || self->paused_) return;
    self->on_due();
  });
}

void ConnectionRunner::on_due() {
  next_due_at_ =
      now_millis() +
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.inventory.schedule).count();
  const SyncKind kind = full_done_ && !full_owed_ ? config_.inventory.automatic : SyncKind::full;
  full_owed_ = false;
  request(kind, Trigger::schedule);
  arm_timer();
  changed();
}

void ConnectionRunner::arm_full_timer() {
  full_timer_.cancel();
  const auto& schedule = config_.inventory.full_schedule;
  if (stopped_ || paused_ || !schedule) {
    full_due_at_ = 0;
    return;
  }
  if (full_due_at_ == 0 || full_due_at_ <= now_millis())
    full_due_at_ = next_after(*schedule, now_millis());
  // The due time is wall-clock (01:00 local); the timer is steady. Waking at least hourly
  // keeps a clock step (NTP, a suspended VM) from moving the run by more than that.
  constexpr UnixMillis kMaxSleep = 3'600'000;
  const auto delay = std::clamp<UnixMillis>(full_due_at_ - now_millis(), 0, kMaxSleep);
  full_timer_.expires_after(std::chrono::milliseconds(delay));
  full_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    const auto self = weak.lock();
    if (ec || !self || self->stopped_ || self->paused_) return;
    if (now_millis() >= self->full_due_at_) {
      self->full_due_at_ = 0;
      self->request(SyncKind::full, Trigger::schedule);
      self->changed();
    }
    self->arm_full_timer();
  });
}

RunTicket ConnectionRunner::request(SyncKind kind, Trigger trigger, bool allow_zeroing) {
  if (!syncing_) {
    Queued run{next_run_id_++, kind, trigger, allow_zeroing};
    launch(run);
    return {run.id, kind, false};
  }
  if (queued_) {
    if (kind == SyncKind::full) queued_->kind = SyncKind::full;
    if (allow_zeroing) queued_->allow_zeroing = true;
    return {queued_->id, queued_->kind, true};
  }
  queued_ = Queued{next_run_id_++, kind, trigger, allow_zeroing};
  return {queued_->id, kind, true};
}

std::optional<std::uint64_t> ConnectionRunner::listed_skus() const {
  if (!control_.feed_digest) return std::nullopt;
  return control_.feed_digest->listed;
}

bool ConnectionRunner::finished(std::uint64_t id) const {
  if (syncing_ && control_.progress.run_id == id) return false;
  if (queued_ && queued_->id == id) return false;
  return id < next_run_id_;
}

void ConnectionRunner::launch(Queued run) {
  RunProgress progress;
  progress.run_id = run.id;
  progress.kind = run.kind;
  progress.trigger = run.trigger;
  progress.started_at = now_millis();
  control_.begin(progress);
  control_.allow_zeroing = run.allow_zeroing;
  syncing_ = true;
  asio::co_spawn(
      deps_.loop, [self = shared_from_this(), run] { return self->run_one(run); }, asio::detached);
  changed();
}

asio::awaitable<void> ConnectionRunner::run_one(Queued queued) {
  try {
    co_await deps_.slots.acquire();
  } catch (const boost::system::system_error&) {
    // The wait was cancelled (the loop is being torn down): no slot was granted, so the run
    // neither starts nor hands back a slot it never held.
    syncing_ = false;
    co_return;
  }
  {
    const async::SemaphorePermit slot(deps_.slots);
    if (deps_.idle_release) deps_.idle_release->run_started();
    co_await run_in_slot(queued);  // never throws
    if (deps_.idle_release) deps_.idle_release->run_ended();
  }
  syncing_ = false;
  if (queued_ && !stopped_) {
    const auto next = *queued_;
    queued_.reset();
    launch(next);
  } else {
    changed();
  }
  // Copied: a woken waiter may unwatch before this loop ends.
  const auto watchers = watchers_;
  for (auto* timer : watchers) timer->cancel();
}

asio::awaitable<void> ConnectionRunner::run_in_slot(Queued queued) {
  state::RunRecord run;
  run.id = queued.id;
  run.kind = queued.kind;
  run.trigger = queued.trigger;
  run.started_at = now_millis();
  control_.progress.started_at = run.started_at;
  try {
    const auto due = next_due_at_;
    co_await async::offload(deps_.pool,
                            [&] { record_run_start(deps_.db, config_.name, run, due); });
    const log::Fields fields{config_.name, to_string(run.kind), run.id};
    log::info(fields, "run {} started: {} sync ({})", run.id, to_string(run.kind),
              to_string(run.trigger));
    // The run holds its own references: a reload may swap the runner's.
    const auto warehouse = warehouse_;
    const auto store = store_;
    const auto rules = Rules::from(config_.inventory);
    const auto name = config_.name;
    RunEnvironment env{deps_.db, *warehouse, *store, deps_.pool, deps_.retry};
    run = co_await execute_run(env, name, rules, run, control_);
    const auto duration_ms = run.finished_at - run.started_at;
    const auto level = run.result == RunResult::ok        ? spdlog::level::info
                       : run.result == RunResult::partial ? spdlog::level::warn
                                                          : spdlog::level::err;
    log::log(level, fields,
             "run {} {}: {} sync ({}), read {}, changed {}, pushed {}, rejected {}, bad rows "
             "{}, {} ms{}{}",
             run.id, to_string(run.result), to_string(run.kind), to_string(run.trigger), run.read,
             run.changed, run.pushed, run.rejected, run.bad_rows, duration_ms,
             run.error.empty() ? "" : ": ", run.error);
    if (run.kind == SyncKind::full && run.result != RunResult::failed) full_done_ = true;
    if (deps_.observer) deps_.observer->run_finished(config_, run);
    if (should_alert(config_.on_failure, run)) alert(run, *warehouse, *store);
  } catch (const std::exception& e) {
    log::error({.connection = config_.name, .sync = to_string(run.kind), .run = run.id},
               "run {} could not be recorded: {}", run.id, e.what());
  }
}

void ConnectionRunner::alert(const state::RunRecord& run, const connectors::Warehouse& warehouse,
                             const connectors::Store& store) {
  // Not awaited: the next run need not wait for a slow mail server, and a hook can never fail
  // or hold up a sync. The queue runs one hook at a time (see AlertQueue).
  RunSummary summary{config_.name, run, warehouse.describe(), store.describe()};
  alerts_->submit(config_.on_failure, std::move(summary));
}

}  // namespace pb::sync
