// beed's service: the LMDB state, one ConnectionRunner per configured
// connection, the worker pool for blocking work and the control socket, all
// wired around one io_context.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "async/backoff.hpp"
#include "async/semaphore.hpp"
#include "config/config.hpp"
#include "control/server.hpp"
#include "state/inventory_db.hpp"
#include "sync/connection_runner.hpp"
#include "sync/idle_memory_release.hpp"
#include "sys/instance_lock.hpp"

namespace pb::service {

class CommandHandlers;
class Monitoring;
class WebDashboard;

// What a reload changed.
struct ReloadSummary {
  std::vector<std::string> added, removed, changed;
  std::size_t unchanged = 0;
  std::vector<std::string> restart_required;  // keys whose new value waits for a restart
};

class Service {
 public:
  Service(boost::asio::io_context& io, config::Config config, async::BackoffPolicy retry = {});
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Opens the state, marks runs a previous process left unfinished as failed,
  // starts every connection's schedule and then the control socket. Throws
  // with a message for the operator on failure.
  void start();

  // Reads the configuration file again and, if it is valid, applies it:
  // added connections start, removed ones stop (a run in flight finishes),
  // changed ones take their new settings (a run in flight finishes with the
  // old). A connection added back while the run it had when removed is still
  // in flight gets that runner back: its next run waits for that one.
  // Throws config::ConfigError, std::runtime_error: nothing changed.
  boost::asio::awaitable<ReloadSummary> reload();

  // Staged stop: closes the control socket, stops the schedules, asks runs
  // in flight to end after their current step (what they confirmed is
  // committed), then calls `done` once none is left or `deadline` passed,
  // with true if a run was still in flight (stuck in a blocking read, say):
  // the worker pool cannot be joined then.
  void shutdown(std::chrono::milliseconds deadline, std::function<void(bool abandoned)> done);
  bool stopping() const { return stopping_; }
  bool reloading() const { return reloading_; }

  // "3 connections, 1 syncing, next run 14:00" for sd_notify's STATUS=.
  std::string status_line() const;
  // Called whenever status_line() may have changed.
  void on_status_change(std::function<void()> callback) { status_changed_ = std::move(callback); }
  // Called with true when a reload begins and false when it ends (for
  // sd_notify's RELOADING=1 / READY=1), whoever asked for it.
  void on_reload(std::function<void(bool)> callback) { reload_hook_ = std::move(callback); }

  const config::Config& config() const { return config_; }
  state::InventoryDb& db() { return *db_; }
  boost::asio::any_io_executor pool() { return pool_.get_executor(); }
  const std::vector<std::shared_ptr<sync::ConnectionRunner>>& runners() const { return runners_; }
  std::shared_ptr<sync::ConnectionRunner> runner(std::string_view name) const;
  UnixMillis started_at() const { return started_at_; }

 private:
  // A connection of a reloaded configuration, with what the reload does to it.
  struct ConnectionChange {
    std::shared_ptr<sync::ConnectionRunner> runner;
    // revived: added back while the runner a reload removed still has its run in flight.
    enum { added, revived, changed, unchanged } what;
    std::shared_ptr<connectors::Warehouse> warehouse;  // changed, revived: the new connectors
    std::shared_ptr<connectors::Store> store;
  };

  std::shared_ptr<sync::ConnectionRunner> make_runner(const config::ConnectionConfig& connection);
  // The steps of reload(): build every new runner and connector (this can throw), then
  // take the daemon settings a reload can change, then swap the connections.
  std::vector<ConnectionChange> plan_connection_changes(
      const std::vector<config::ConnectionConfig>& connections);
  void apply_daemon_settings(const config::DaemonConfig& neu, ReloadSummary& summary);
  void apply_connection_changes(std::vector<ConnectionChange> changes, config::Config& next,
                                ReloadSummary& summary);
  void chown_socket() const;
  // The runners reloads removed that are still alive (a run in flight holds them), for
  // revival and for a stop.
  std::vector<std::shared_ptr<sync::ConnectionRunner>> retired_runners();
  std::shared_ptr<sync::ConnectionRunner> retired_runner(std::string_view name);

  boost::asio::io_context& io_;
  config::Config config_;
  async::BackoffPolicy retry_;
  boost::asio::thread_pool pool_;
  std::unique_ptr<state::InventoryDb> db_;
  std::unique_ptr<async::Semaphore> slots_;
  std::unique_ptr<sync::IdleMemoryRelease> idle_release_;  // memory back once no run goes
  // daemon.http: metrics and their listener (null without); outlives the runners it observes.
  std::unique_ptr<Monitoring> monitoring_;
  std::vector<std::shared_ptr<sync::ConnectionRunner>> runners_;  // in configuration order
  std::vector<std::weak_ptr<sync::ConnectionRunner>> retired_;    // removed by a reload
  std::unique_ptr<CommandHandlers> handlers_;
  std::unique_ptr<WebDashboard> web_;  // daemon.http: the page and the API, over handlers_
  std::unique_ptr<control::Server> server_;
  void poll_shutdown();
  // The feeds' digests over a restart (sync/digest_file.hpp): taken right after the state
  // opens, before anything writes; kept once the stop has no run left to wait for.
  std::map<std::string, sync::KeptDigest> take_kept_digests();
  void keep_digests();
  std::unique_ptr<boost::asio::steady_timer> shutdown_timer_;
  std::chrono::steady_clock::time_point shutdown_until_;
  std::function<void(bool)> shutdown_done_;
  std::function<void()> status_changed_;
  std::function<void(bool)> reload_hook_;
  std::unique_ptr<sys::InstanceLock> instance_lock_;
  UnixMillis started_at_ = 0;
  bool reloading_ = false;
  bool stopping_ = false;
};

}  // namespace pb::service
