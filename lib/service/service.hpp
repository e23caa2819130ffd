// beed's service: the LMDB state, one ConnectionRunner per configured
// connection, the worker pool for blocking work and the control socket, all
// wired around one io_context.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "config/config.hpp"
#include "control/server.hpp"
#include "state/inventory_db.hpp"
#include "sync/connection_runner.hpp"
#include "sync/sync_slots.hpp"

namespace pb::service {

class CommandHandlers;

class Service {
 public:
  Service(boost::asio::io_context& io, config::Config config, sync::RetryPolicy retry = {});
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Opens the state, marks runs a previous process left unfinished as failed,
  // starts every connection's schedule and then the control socket. Throws
  // with a message for the operator on failure.
  void start();
  // Closes the control socket and stops the schedules. Runs in flight stop
  // where they are when the loop stops; what they confirmed is committed.
  void stop();

  const config::Config& config() const { return config_; }
  state::InventoryDb& db() { return *db_; }
  boost::asio::any_io_executor pool() { return pool_.get_executor(); }
  const std::vector<std::shared_ptr<sync::ConnectionRunner>>& runners() const { return runners_; }
  std::shared_ptr<sync::ConnectionRunner> runner(std::string_view name) const;
  UnixMillis started_at() const { return started_at_; }

 private:
  boost::asio::io_context& io_;
  config::Config config_;
  sync::RetryPolicy retry_;
  boost::asio::thread_pool pool_;
  std::unique_ptr<state::InventoryDb> db_;
  std::unique_ptr<sync::SyncSlots> slots_;
  std::vector<std::shared_ptr<sync::ConnectionRunner>> runners_;  // in configuration order
  std::unique_ptr<CommandHandlers> handlers_;
  std::unique_ptr<control::Server> server_;
  UnixMillis started_at_ = 0;
};

}  // namespace pb::service
