#include "service/monitoring.hpp"

#include <utility>

#include <boost/asio/post.hpp>

#include "async/offload.hpp"
#include "log/log.hpp"
#include "metrics/sku_census.hpp"

namespace pb::service {

namespace asio = boost::asio;

Monitoring::Monitoring(asio::any_io_executor loop, asio::any_io_executor pool,
                       state::InventoryDb& db,
                       const std::vector<std::shared_ptr<sync::ConnectionRunner>>& runners)
    : loop_(std::move(loop)),
      pool_(std::move(pool)),
      db_(db),
      runners_(runners),
      census_(std::make_shared<Census>(PACKAGEBEE_VERSION)) {}

Monitoring::~Monitoring() {
  stop();
}

void Monitoring::start(const config::HttpListenerConfig& http,
                       const std::function<void(web::HttpServer&)>& more_routes) {
  for (const auto& runner : runners_) recount(runner->config().name, true);
  web::ServerOptions options;
  options.host = http.host;
  options.port = http.port;
  options.tls_cert_file = http.tls_cert_file;
  options.tls_key_file = http.tls_key_file;
  server_ = std::make_unique<web::HttpServer>(loop_, options);
  server_->route("/metrics", [this] { return scrape(); });
  if (more_routes) more_routes(*server_);
  server_->start();
  log::info("metrics at {}/metrics", server_->describe());
}

void Monitoring::stop() {
  if (server_) server_->stop();
}

void Monitoring::run_finished(const config::ConnectionConfig& connection,
                              const state::RunRecord& run) {
  census_->metrics.run_finished(connection.name, run);
  recount(connection.name, false);
}

std::shared_ptr<net::ExchangeObserver> Monitoring::store_exchanges(
    const config::ConnectionConfig& connection) {
  census_->metrics.add_connection(connection);
  return census_->metrics.store_observer(connection.name, metrics::store_type(connection.store));
}

void Monitoring::recount(const std::string& connection, bool with_last_runs) {
  const auto seq = ++census_->requested[connection];
  std::optional<std::uint64_t> listed;  // known: only the change index is walked
  for (const auto& runner : runners_)
    if (runner->config().name == connection) listed = runner->listed_skus();
  // Not awaited, and after the run has given back its slot: the walk (about 0.1 s per
  // million SKUs, or the change index only when the runner knows the listed count) delays no
  // run and never happens on a scrape.
  asio::post(pool_, [&db = db_, loop = loop_, weak = std::weak_ptr<Census>(census_), connection,
                     seq, with_last_runs, listed] {
    metrics::SkuCounts counts;
    metrics::LastRuns last;
    try {
      counts = metrics::count_skus(db, connection, listed);
      if (with_last_runs) last = metrics::last_runs(db, connection);
    } catch (const std::exception& e) {
      log::warn({.connection = connection}, "metrics: cannot count SKUs: {}", e.what());
      return;
    }
    asio::post(loop, [weak, connection, seq, counts, last] {
      const auto census = weak.lock();
      if (!census || census->applied[connection] > seq) return;
      census->applied[connection] = seq;
      census->metrics.set_skus(connection, counts);
      census->metrics.set_last_runs(connection, last.finished, last.ok);
    });
  });
}

asio::awaitable<web::Reply> Monitoring::scrape() {
  for (const auto& runner : runners_)
    census_->metrics.set_state(runner->config().name, runner->paused(), runner->syncing());
  // Rendering is proportional to the series (a few dozen per connection): on the pool, so that
  // a thousand connections do not hold up the loop.
  // A named lambda, not a temporary in the co_await: g++ 12 destroys such a temporary twice
  // when it owns something (here the shared_ptr).
  const auto render = [census = census_] { return census->metrics.serialize(); };
  web::Reply reply{200, "text/plain; version=0.0.4; charset=utf-8", {}};
  reply.body = co_await async::offload(pool_, render);
  co_return reply;
}

}  // namespace pb::service
