#include "service/service.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "service/command_handlers.hpp"

namespace pb::service {

namespace {
// Enough threads that a slow feed parse never holds up a batch record of
// another connection; LMDB serialises the writers anyway.
unsigned pool_threads(const config::Config& config) {
  return std::clamp(config.daemon.max_concurrent_syncs + 1, 2u, 8u);
}
}  // namespace

Service::Service(boost::asio::io_context& io, config::Config config, sync::RetryPolicy retry)
    : io_(io), config_(std::move(config)), retry_(retry), pool_(pool_threads(config_)) {}

Service::~Service() {
  stop();
  pool_.join();
}

void Service::start() {
  started_at_ = now_millis();
  db_ = std::make_unique<state::InventoryDb>(config_.daemon.state_dir);
  const auto interrupted = db_->fail_interrupted_runs(now_millis());
  for (const auto& name : interrupted)
    spdlog::warn(
        "{}: the last run was interrupted (beed stopped during it); it is marked failed "
        "and a new run is due now",
        name);

  slots_ =
      std::make_unique<sync::SyncSlots>(io_.get_executor(), config_.daemon.max_concurrent_syncs);
  for (const auto& connection : config_.connections) {
    sync::RunnerDeps deps{io_.get_executor(), pool_.get_executor(), *db_, *slots_, retry_};
    auto runner = std::make_shared<sync::ConnectionRunner>(deps, connection);
    const bool resume =
        std::find(interrupted.begin(), interrupted.end(), connection.name) != interrupted.end();
    runner->start(resume);
    spdlog::info("{}: warehouse {}, store {}, automatic {} sync every {} s", connection.name,
                 runner->warehouse().describe(), runner->store().describe(),
                 to_string(connection.inventory.automatic), connection.inventory.schedule.count());
    runners_.push_back(std::move(runner));
  }

  handlers_ = std::make_unique<CommandHandlers>(*this);
  control::ServerOptions options;
  options.socket_path = config_.daemon.socket;
  server_ = std::make_unique<control::Server>(io_, options, *handlers_);
  server_->start();
  spdlog::info("listening on {} with {} connection(s); state in {}", config_.daemon.socket.string(),
               runners_.size(), config_.daemon.state_dir.string());
}

void Service::stop() {
  if (server_) server_->stop();
  for (auto& runner : runners_) runner->stop();
}

std::shared_ptr<sync::ConnectionRunner> Service::runner(std::string_view name) const {
  for (const auto& r : runners_)
    if (r->config().name == name) return r;
  return nullptr;
}

}  // namespace pb::service
