#include "service/service.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "async/offload.hpp"
#include "config/config_loader.hpp"
#include "log/log.hpp"
#include "service/command_handlers.hpp"
#include "service/monitoring.hpp"
#include "service/web_dashboard.hpp"
#include "sync/connection_connectors.hpp"
#include "sync/digest_file.hpp"
#include "sys/file_modes.hpp"
#include "sys/groups.hpp"

namespace pb::service {

namespace {
// Enough threads that a slow feed parse never holds up a batch record of
// another connection; LMDB serialises the writers anyway.
unsigned pool_threads(const config::Config& config) {
  return std::clamp(config.daemon.max_concurrent_syncs + 1, 2u, 8u);
}

constexpr std::chrono::milliseconds kShutdownPoll{50};
}  // namespace

Service::Service(boost::asio::io_context& io, config::Config config, async::BackoffPolicy retry)
    : io_(io), config_(std::move(config)), retry_(retry), pool_(pool_threads(config_)) {}

Service::~Service() {
  if (server_) server_->stop();
  if (monitoring_) monitoring_->stop();
  for (auto& runner : runners_) runner->stop();
  for (auto& runner : retired_runners()) runner->stop();
  pool_.join();
}

std::shared_ptr<sync::ConnectionRunner> Service::make_runner(
    const config::ConnectionConfig& connection) {
  sync::RunnerDeps deps{io_.get_executor(), pool_.get_executor(), *db_, *slots_, retry_,
                        monitoring_.get(),  idle_release_.get()};
  auto built = sync::build_connectors(connection, io_.get_executor(), db_.get(), monitoring_.get());
  auto runner = std::make_shared<sync::ConnectionRunner>(
      deps, connection, std::move(built.warehouse), std::move(built.store));
  runner->on_change([this] {
    if (status_changed_) status_changed_();
  });
  return runner;
}

void Service::start() {
  started_at_ = now_millis();
  // Whatever umask beed was started with (000 from a careless shell), what it
  // and its libraries create is its user's and group's only: state, store
  // files, the lock file. Set before anything is created.
  sys::set_daemon_umask();
  // Two daemons on one state would each believe their change index; the
  // lock file says which process holds it.
  try {
    sys::create_directories(config_.daemon.state_dir);
  } catch (const std::filesystem::filesystem_error& e) {
    throw std::runtime_error("cannot create state directory " + config_.daemon.state_dir.string() +
                             ": " + e.code().message());
  }
  instance_lock_ = std::make_unique<sys::InstanceLock>(config_.daemon.state_dir);
  db_ = std::make_unique<state::InventoryDb>(config_.daemon.state_dir);
  auto kept = take_kept_digests();
  const auto interrupted = db_->fail_interrupted_runs(now_millis());
  for (const auto& name : interrupted)
    log::warn({.connection = name},
              "the last run was interrupted (beed stopped during it); it is marked failed and a "
              "new run is due now");

  slots_ =
      std::make_unique<async::Semaphore>(io_.get_executor(), config_.daemon.max_concurrent_syncs);
  idle_release_ = std::make_unique<sync::IdleMemoryRelease>(
      io_.get_executor(), pool_.get_executor(), [db = db_.get()] { db->env().release_memory(); });
  if (config_.daemon.http.enabled())
    monitoring_ = std::make_unique<Monitoring>(io_.get_executor(), pool(), *db_, runners_);
  for (const auto& connection : config_.connections) {
    auto runner = make_runner(connection);
    const bool resume =
        std::find(interrupted.begin(), interrupted.end(), connection.name) != interrupted.end();
    if (const auto it = kept.find(connection.name); it != kept.end() && !resume)
      runner->adopt_digest(std::move(it->second));
    runner->start(resume);
    log::info({.connection = connection.name},
              "warehouse {}, store {}, automatic {} sync every {} s{}",
              runner->warehouse()->describe(), runner->store()->describe(),
              to_string(connection.inventory.automatic), connection.inventory.schedule.count(),
              runner->paused() ? " (paused)" : "");
    runners_.push_back(std::move(runner));
  }

  handlers_ = std::make_unique<CommandHandlers>(*this);
  control::ServerOptions options;
  options.socket_path = config_.daemon.socket;
  server_ = std::make_unique<control::Server>(io_, options, *handlers_);
  server_->start();
  chown_socket();
  if (monitoring_) {
    web_ = std::make_unique<WebDashboard>(*handlers_, config_.daemon.http);
    monitoring_->start(config_.daemon.http, [this](web::HttpServer& http) { web_->install(http); });
  }
  log::info("listening on {} with {} connection(s); state in {}", config_.daemon.socket.string(),
            runners_.size(), config_.daemon.state_dir.string());
}

void Service::chown_socket() const {
  if (config_.daemon.socket_group.empty()) return;
  const auto gid = sys::lookup_group(config_.daemon.socket_group);
  if (!gid)
    throw std::runtime_error("daemon.socket_group: no group named '" + config_.daemon.socket_group +
                             "'");
  if (chown(config_.daemon.socket.c_str(), static_cast<uid_t>(-1), *gid) != 0)
    throw std::runtime_error("cannot give " + config_.daemon.socket.string() + " to group '" +
                             config_.daemon.socket_group + "': " + std::strerror(errno));
}

boost::asio::awaitable<ReloadSummary> Service::reload() {
  if (reloading_) throw std::runtime_error("a reload is already in progress");
  if (stopping_) throw std::runtime_error("beed is shutting down");
  reloading_ = true;
  if (reload_hook_) reload_hook_(true);
  struct Done {
    Service& self;
    ~Done() {
      self.reloading_ = false;
      if (self.reload_hook_) self.reload_hook_(false);
    }
  } done{*this};

  const auto source = config_.source;
  auto next = co_await async::offload(pool(), [&] { return config::load_config_file(source); });

  ReloadSummary summary;
  // Built before anything changes: a connector that cannot be built (a ca_file that
  // cannot be loaded) refuses the reload with nothing changed.
  auto changes = plan_connection_changes(next.connections);
  apply_daemon_settings(next.daemon, summary);
  apply_connection_changes(std::move(changes), next, summary);

  log::info("configuration reloaded from {}: {} added, {} removed, {} changed, {} unchanged{}{}",
            source.string(), summary.added.size(), summary.removed.size(), summary.changed.size(),
            summary.unchanged, summary.restart_required.empty() ? "" : "; needs a restart: ",
            fmt::join(summary.restart_required, ", "));
  if (status_changed_) status_changed_();
  co_return summary;
}

void Service::apply_daemon_settings(const config::DaemonConfig& neu, ReloadSummary& summary) {
  // Settings the running daemon is built around wait for a restart; the
  // running values stay in config_ so that status and the next reload
  // compare against what is really in effect.
  auto& old = config_.daemon;
  if (neu.socket != old.socket) summary.restart_required.push_back("daemon.socket");
  if (neu.state_dir != old.state_dir) summary.restart_required.push_back("daemon.state_dir");
  if (neu.socket_group != old.socket_group)
    summary.restart_required.push_back("daemon.socket_group");
  if (neu.max_concurrent_syncs != old.max_concurrent_syncs)
    summary.restart_required.push_back("daemon.max_concurrent_syncs");
  if (neu.http != old.http) summary.restart_required.push_back("daemon.http");
  if (neu.log_level != old.log_level) {
    spdlog::set_level(spdlog::level::from_str(neu.log_level));
    old.log_level = neu.log_level;
  }
  old.admin_group = neu.admin_group;
}

std::vector<Service::ConnectionChange> Service::plan_connection_changes(
    const std::vector<config::ConnectionConfig>& connections) {
  using Change = ConnectionChange;
  std::vector<Change> changes;
  for (const auto& connection : connections) {
    auto existing = runner(connection.name);
    if (!existing) {
      if (auto retired = retired_runner(connection.name)) {
        auto built = sync::build_connectors(connection, io_.get_executor(), db_.get());
        changes.push_back({std::move(retired), Change::revived, std::move(built.warehouse),
                           std::move(built.store)});
        continue;
      }
      changes.push_back({make_runner(connection), Change::added, nullptr, nullptr});
    } else if (existing->config() == connection) {
      changes.push_back({std::move(existing), Change::unchanged, nullptr, nullptr});
    } else {
      auto built =
          sync::build_connectors(connection, io_.get_executor(), db_.get(), monitoring_.get());
      changes.push_back({std::move(existing), Change::changed, std::move(built.warehouse),
                         std::move(built.store)});
    }
  }
  return changes;
}

void Service::apply_connection_changes(std::vector<ConnectionChange> changes, config::Config& next,
                                       ReloadSummary& summary) {
  using Change = ConnectionChange;
  std::vector<std::shared_ptr<sync::ConnectionRunner>> runners;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    auto& change = changes[i];
    const auto& connection = next.connections[i];
    switch (change.what) {
      case Change::added:
        change.runner->start(false);
        summary.added.push_back(connection.name);
        break;
      case Change::revived:
        change.runner->revive(connection, std::move(change.warehouse), std::move(change.store));
        summary.added.push_back(connection.name);
        log::info({.connection = connection.name},
                  "added back while its last run is still in flight; the next run waits for it");
        break;
      case Change::changed:
        change.runner->reconfigure(connection, std::move(change.warehouse),
                                   std::move(change.store));
        summary.changed.push_back(connection.name);
        break;
      case Change::unchanged:
        ++summary.unchanged;
        break;
    }
    runners.push_back(std::move(change.runner));
  }
  std::erase_if(retired_, [&](const auto& weak) {
    const auto r = weak.lock();
    return !r || std::find(runners.begin(), runners.end(), r) != runners.end();
  });
  for (const auto& r : runners_) {
    if (!next.find(r->config().name)) {
      r->stop(false);  // a run in flight finishes, its runner kept alive by it
      retired_.push_back(r);
      summary.removed.push_back(r->config().name);
    }
  }
  runners_ = std::move(runners);
  config_.connections = std::move(next.connections);
}

std::vector<std::shared_ptr<sync::ConnectionRunner>> Service::retired_runners() {
  std::vector<std::shared_ptr<sync::ConnectionRunner>> alive;
  for (const auto& weak : retired_)
    if (auto r = weak.lock()) alive.push_back(std::move(r));
  return alive;
}

std::shared_ptr<sync::ConnectionRunner> Service::retired_runner(std::string_view name) {
  // Only one whose run is still in flight: an idle one is gone for good (its last run's
  // record is in the state, which a new runner reads).
  for (auto& r : retired_runners())
    if (r->config().name == name && r->syncing()) return r;
  return nullptr;
}

void Service::shutdown(std::chrono::milliseconds deadline,
                       std::function<void(bool abandoned)> done) {
  if (stopping_) return;
  stopping_ = true;
  if (server_) server_->stop();
  if (monitoring_) monitoring_->stop();
  for (auto& runner : runners_) runner->stop();
  for (auto& runner : retired_runners()) runner->stop();
  shutdown_until_ = std::chrono::steady_clock::now() + deadline;
  shutdown_done_ = std::move(done);
  shutdown_timer_ = std::make_unique<boost::asio::steady_timer>(io_);
  poll_shutdown();
}

void Service::poll_shutdown() {
  const auto syncing = [](const auto& r) { return r->syncing(); };
  const auto retired = retired_runners();
  const bool busy = std::any_of(runners_.begin(), runners_.end(), syncing) ||
                    std::any_of(retired.begin(), retired.end(), syncing);
  if (!busy || std::chrono::steady_clock::now() >= shutdown_until_) {
    if (busy) log::warn("stop deadline reached with a run still in flight; it is abandoned");
    keep_digests();
    shutdown_done_(busy);
    return;
  }
  shutdown_timer_->expires_after(kShutdownPoll);
  shutdown_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) poll_shutdown();
  });
}

std::map<std::string, sync::KeptDigest> Service::take_kept_digests() {
  try {
    const auto& dir = config_.daemon.state_dir;
    return sync::take_digests(sync::digest_dir(dir),
                              sync::state_stamp(dir, db_->env().last_txnid()));
  } catch (const std::exception& e) {
    log::warn("the feeds' digests from before the restart are not used: {}", e.what());
    return {};
  }
}

void Service::keep_digests() {
  // Blocking, on the loop: the control socket is closed and nothing is left to serve. A run
  // abandoned at the deadline may still write: its write changes the stamp, so the next beed
  // takes none of these.
  const auto& dir = config_.daemon.state_dir;
  sync::StateStamp stamp;
  try {
    stamp = sync::state_stamp(dir, db_->env().last_txnid());
  } catch (const std::exception& e) {
    log::warn("cannot keep the feeds' digests over the restart: {}", e.what());
    return;
  }
  for (const auto& runner : runners_) {
    const auto kept = runner->kept_digest();
    if (!kept.digest) continue;
    try {  // one that cannot be written (a full disk) does not keep the others from trying
      sync::save_digest(sync::digest_dir(dir), runner->config().name, stamp, kept);
    } catch (const std::exception& e) {
      log::warn({.connection = runner->config().name},
                "cannot keep the last feed's digest over the restart: {}", e.what());
    }
  }
}

std::string Service::status_line() const {
  std::size_t syncing = 0, paused = 0;
  UnixMillis next = 0;
  for (const auto& r : runners_) {
    if (r->syncing()) ++syncing;
    if (r->paused()) {
      ++paused;
      continue;
    }
    if (r->next_due_at() != 0 && (next == 0 || r->next_due_at() < next)) next = r->next_due_at();
  }
  std::string line = std::to_string(runners_.size()) + " connection" +
                     (runners_.size() == 1 ? "" : "s") + ", " + std::to_string(syncing) +
                     " syncing";
  if (paused) line += ", " + std::to_string(paused) + " paused";
  if (stopping_) return line + ", stopping";
  if (next) line += ", next run " + format_time(next);
  return line;
}

std::shared_ptr<sync::ConnectionRunner> Service::runner(std::string_view name) const {
  for (const auto& r : runners_)
    if (r->config().name == name) return r;
  return nullptr;
}

}  // namespace pb::service
