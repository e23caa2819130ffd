// beed's monitoring when daemon.http.listen is set: the metrics registry (metrics/), the
// engine's observer that feeds it, and the HTTP listener (web/) that serves GET /metrics.
// Without daemon.http nothing of this exists, so a daemon without a listener pays nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "metrics/sync_metrics.hpp"
#include "state/inventory_db.hpp"
#include "sync/connection_runner.hpp"
#include "sync/sync_observer.hpp"
#include "web/http_server.hpp"

namespace pb::service {

class Monitoring final : public sync::SyncObserver {
 public:
  // `runners` is the Service's list, read at each scrape for the paused and running gauges.
  Monitoring(boost::asio::any_io_executor loop, boost::asio::any_io_executor pool,
             state::InventoryDb& db,
             const std::vector<std::shared_ptr<sync::ConnectionRunner>>& runners);
  ~Monitoring() override;

  // Once the runners exist: reads each connection's last runs and SKU counts (on the pool) and
  // starts the listener, with `more_routes` added to /metrics (the web dashboard). Throws
  // std::runtime_error when it cannot listen.
  void start(const config::HttpListenerConfig& http,
             const std::function<void(web::HttpServer&)>& more_routes = {});
  void stop();

  // sync::SyncObserver. store_exchanges is called whenever a connection's connectors are
  // built (start, reload), so it also creates the connection's series.
  void run_finished(const config::ConnectionConfig& connection,
                    const state::RunRecord& run) override;
  std::shared_ptr<net::ExchangeObserver> store_exchanges(
      const config::ConnectionConfig& connection) override;

  metrics::SyncMetrics& metrics() { return census_->metrics; }

  // What recount() shares with the pool work it starts: a run end may come after ~Monitoring.
  struct Census {
    metrics::SyncMetrics metrics;
    std::map<std::string, std::uint64_t> requested, applied;  // per connection, newest wins
    explicit Census(std::string_view version) : metrics(version) {}
  };

 private:
  // Counts the connection's SKUs on the pool and sets the gauges from the loop; a count that
  // finishes after a newer one started is dropped.
  void recount(const std::string& connection, bool with_last_runs);
  boost::asio::awaitable<web::Reply> scrape();

  boost::asio::any_io_executor loop_, pool_;
  state::InventoryDb& db_;
  const std::vector<std::shared_ptr<sync::ConnectionRunner>>& runners_;
  std::shared_ptr<Census> census_;
  std::unique_ptr<web::HttpServer> server_;
};

}  // namespace pb::service
