// Everything beed does for one connection: its steady_timer for automatic
// runs, the one-run-at-a-time rule with a queue of one, and the control of
// the run in flight (its progress, a stop). Lives on the event loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "async/backoff.hpp"
#include "async/semaphore.hpp"
#include "config/config.hpp"
#include "connectors/store/store.hpp"
#include "connectors/warehouse/warehouse.hpp"
#include "state/inventory_db.hpp"
#include "sync/alert_hook.hpp"
#include "sync/digest_file.hpp"
#include "sync/sync_observer.hpp"
#include "sync/sync_run.hpp"

namespace pb::sync {

class IdleMemoryRelease;

struct RunnerDeps {
  boost::asio::any_io_executor loop;
  boost::asio::any_io_executor pool;
  state::InventoryDb& db;
  async::Semaphore& slots;           // max_concurrent_syncs runs at once, across connections
  async::BackoffPolicy retry;        // for transient store failures within a run
  SyncObserver* observer = nullptr;  // beed's metrics; outlives the runners
  IdleMemoryRelease* idle_release = nullptr;  // told when runs start and end; outlives the runners
};

struct RunTicket {
  std::uint64_t run_id = 0;
  SyncKind kind = SyncKind::smart;
  bool queued = false;  // waits for the run in flight
};

// Owned through shared_ptr: a run in flight keeps its runner alive even after
// the connection is removed from the configuration.
class ConnectionRunner : public std::enable_shared_from_this<ConnectionRunner> {
 public:
  // With the connectors the configuration names (sync/connection_connectors.hpp builds them).
  ConnectionRunner(RunnerDeps deps, config::ConnectionConfig config,
                   std::shared_ptr<connectors::Warehouse> warehouse,
                   std::shared_ptr<connectors::Store> store);
  ConnectionRunner(const ConnectionRunner&) = delete;
  ConnectionRunner& operator=(const ConnectionRunner&) = delete;

  // Reads the connection's record and arms the timer. `run_soon`: the last
  // run was interrupted, so the next automatic run is due now.
  void start(bool run_soon);
  // Stops the timer and drops the queued run, if any. `cancel_run`: the run
  // in flight ends after its current step (beed is stopping); otherwise it
  // runs to its end (the connection was removed by a reload).
  void stop(bool cancel_run = true);

  // A changed configuration: new connectors and schedule. A run in flight
  // finishes with the connectors it started with.
  void reconfigure(config::ConnectionConfig config,
                   std::shared_ptr<connectors::Warehouse> warehouse,
                   std::shared_ptr<connectors::Store> store);

  // The connection a reload removed (stop(false)) is added back by a later reload while this
  // runner's run is still in flight: the runner takes the new configuration and connectors and
  // arms its schedule again. Reviving it, rather than making a second runner, keeps one run at
  // a time and one sequence of run ids: a second runner would start a run beside the one in
  // flight. A request meanwhile queues behind that run, as on any runner.
  void revive(config::ConnectionConfig config, std::shared_ptr<connectors::Warehouse> warehouse,
              std::shared_ptr<connectors::Store> store);

  // Pauses or resumes automatic runs (manual ones still run); persisted, so
  // a restart keeps it. A resumed connection whose run fell due meanwhile
  // runs at once.
  boost::asio::awaitable<void> set_paused(bool paused);
  bool paused() const { return paused_; }

  // Starts a run, or queues one behind the run in flight. A second request
  // while one is queued joins it (a Full request upgrades a queued Smart one).
  // `allow_zeroing`: that run's feed skips the zeroing guard (sync/change_detector.hpp).
  RunTicket request(SyncKind kind, Trigger trigger, bool allow_zeroing = false);

  const config::ConnectionConfig& config() const { return config_; }
  const std::shared_ptr<connectors::Warehouse>& warehouse() const { return warehouse_; }
  const std::shared_ptr<connectors::Store>& store() const { return store_; }
  // "syncing", "paused" or "idle".
  std::string_view state_name() const;
  bool syncing() const { return syncing_; }
  // The progress of the run in flight; null when there is none.
  const RunProgress* current() const { return syncing_ ? &control_.progress : nullptr; }
  UnixMillis next_due_at() const { return next_due_at_; }
  // The next Full Sync of `full_schedule`; 0 when there is none (or paused).
  UnixMillis next_full_at() const { return full_due_at_; }
  // How many of the connection's SKUs are listed, when the last feed applied left a digest
  // (sync/change_detector_digest.hpp), which knows; none otherwise. On the loop.
  std::optional<std::uint64_t> listed_skus() const;
  // The last applied feed's digest and the last stale check, for beed's stop to keep over a
  // restart (sync/digest_file.hpp); no digest when there is none, or while a run is in flight
  // (it may be changing it). On the loop.
  KeptDigest kept_digest() const {
    if (syncing_ || !control_.feed_digest) return {};
    return {control_.feed_digest, control_.last_stale_check};
  }
  // What was kept over a restart, for the first run; before start().
  void adopt_digest(KeptDigest kept) {
    control_.feed_digest = std::move(kept.digest);
    control_.last_stale_check = kept.last_stale_check;
  }
  // Whether run `id` has ended (its record holds the result).
  bool finished(std::uint64_t id) const;

  // Called on the loop whenever what `beectl status` shows of this runner
  // changes: a run starts or ends, a pause, a new due time.
  void on_change(std::function<void()> callback) { on_change_ = std::move(callback); }

  // A `--wait` request's timer, cancelled (so the waiter wakes at once) when a run ends.
  void watch(boost::asio::steady_timer* timer) { watchers_.insert(timer); }
  void unwatch(boost::asio::steady_timer* timer) { watchers_.erase(timer); }

 private:
  struct Queued {
    std::uint64_t id;
    SyncKind kind;
    Trigger trigger;
    bool allow_zeroing = false;
  };
  void arm_timer();
  void arm_full_timer();
  void on_due();
  void launch(Queued run);
  // Waits for a sync slot, runs, then starts the queued run if any.
  boost::asio::awaitable<void> run_one(Queued run);
  // The run itself, holding its slot: records, executes, logs and alerts.
  boost::asio::awaitable<void> run_in_slot(Queued run);
  // Runs the on_failure hook for `run` in the background, after the connection's hook in
  // flight if there is one.
  void alert(const state::RunRecord& run, const connectors::Warehouse& warehouse,
             const connectors::Store& store);

  RunnerDeps deps_;
  config::ConnectionConfig config_;
  std::shared_ptr<connectors::Warehouse> warehouse_;
  std::shared_ptr<connectors::Store> store_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer full_timer_;  // full_schedule
  // Handed to the run in flight; outlives it (see RunControl for who touches it where).
  RunControl control_;
  bool syncing_ = false;  // a run is in flight; control_.progress is that run's
  std::optional<Queued> queued_;
  std::uint64_t next_run_id_ = 1;
  UnixMillis next_due_at_ = 0;
  bool full_done_ = false;  // a Full Sync has completed at least once
  bool full_owed_ = false;  // a full_schedule slot was missed while beed was down
  UnixMillis full_due_at_ = 0;
  bool paused_ = false;
  bool stopped_ = false;
  std::shared_ptr<AlertQueue> alerts_;  // on_failure hooks, one at a time
  std::function<void()> on_change_;
  std::set<boost::asio::steady_timer*> watchers_;
  void changed() const {
    if (on_change_) on_change_();
  }
};

}  // namespace pb::sync
