// beed's metrics: one prometheus-cpp registry for the whole process, fed by the engine (runs,
// SKU counts, store requests) and read by GET /metrics. Lives in the Service, so its counters
// survive a reload; they start from zero at each start of beed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "config/config.hpp"
#include "core/types.hpp"
#include "metrics/process_collector.hpp"
#include "metrics/sku_census.hpp"
#include "net/exchange_observer.hpp"
#include "state/records.hpp"

namespace pb::metrics {

// Every name beed exports (process_* aside), for the tests that check the dashboard and rules.
inline constexpr std::string_view kMetricNames[] = {
    "packagebee_build_info",
    "packagebee_sync_runs_total",
    "packagebee_sync_duration_seconds",
    "packagebee_sync_last_success_timestamp_seconds",
    "packagebee_sync_last_run_timestamp_seconds",
    "packagebee_sync_schedule_seconds",
    "packagebee_sync_running",
    "packagebee_skus",
    "packagebee_skus_pushed_total",
    "packagebee_skus_rejected_total",
    "packagebee_feed_bad_rows_total",
    "packagebee_store_requests_total",
    "packagebee_store_throttled_total",
    "packagebee_store_request_duration_seconds",
    "packagebee_connection_paused",
};

// Updated on the event loop; serialize() may run on any thread (prometheus-cpp's metrics are
// atomic or locked), so a scrape is rendered on the worker pool. Labels are connection names,
// store types, kinds, triggers, results and outcomes: never a SKU.
class SyncMetrics {
 public:
  explicit SyncMetrics(std::string_view version);
  SyncMetrics(const SyncMetrics&) = delete;
  SyncMetrics& operator=(const SyncMetrics&) = delete;

  // A connection beed runs (at start, or added or changed by a reload): creates its series at
  // zero, so that rate() and the alert rules see them before the first run, and sets its
  // schedule. A removed connection's series stay until beed restarts.
  void add_connection(const config::ConnectionConfig& connection);

  void run_finished(const std::string& connection, const state::RunRecord& run);
  // From the run history in LMDB at start, so that "no success for 2x the schedule" holds
  // across restarts. 0: none.
  void set_last_runs(const std::string& connection, UnixMillis last_finished, UnixMillis last_ok);
  void set_skus(const std::string& connection, const SkuCounts& counts);
  void set_state(const std::string& connection, bool paused, bool running);

  // The observer of one connection's store sessions.
  std::shared_ptr<net::ExchangeObserver> store_observer(const std::string& connection,
                                                        std::string_view store_type);

  // The Prometheus text format (0.0.4) of every metric, process_* included.
  std::string serialize() const;

 private:
  class StoreObserver;

  std::shared_ptr<prometheus::Registry> registry_;
  ProcessCollector process_;
  prometheus::Family<prometheus::Counter>& runs_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Gauge>& last_success_;
  prometheus::Family<prometheus::Gauge>& last_run_;
  prometheus::Family<prometheus::Gauge>& schedule_;
  prometheus::Family<prometheus::Gauge>& running_;
  prometheus::Family<prometheus::Gauge>& skus_;
  prometheus::Family<prometheus::Counter>& pushed_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Family<prometheus::Counter>& bad_rows_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& throttled_;
  prometheus::Family<prometheus::Histogram>& request_duration_;
  prometheus::Family<prometheus::Gauge>& paused_;
};

// "csv", "shopify", "woocommerce": the `store` label.
std::string_view store_type(const config::StoreConfig& store);

}  // namespace pb::metrics
