#include "metrics/sync_metrics.hpp"

#include <chrono>
#include <utility>
#include <variant>

#include <prometheus/text_serializer.h>

namespace pb::metrics {

namespace {

using prometheus::Histogram;
using prometheus::Labels;

// A run takes from under a second (a Smart Sync with nothing to push) to an hour (a first Full
// Sync of a million SKUs against a slow API).
const Histogram::BucketBoundaries kRunBuckets{0.1, 0.5, 1,   2.5, 5,    10,   30,
                                              60,  120, 300, 600, 1200, 1800, 3600};
// One store request: tens of milliseconds to a minute (the request deadline).
const Histogram::BucketBoundaries kRequestBuckets{0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                  1,    2.5,   5,    10,  30,   60};

double seconds(UnixMillis millis) {
  return static_cast<double>(millis) / 1000.0;
}

template <class Builder>
auto& registered(Builder builder, const char* name, const char* help,
                 prometheus::Registry& registry) {
  return builder.Name(name).Help(help).Register(registry);
}

}  // namespace

class SyncMetrics::StoreObserver final : public net::ExchangeObserver {
 public:
  StoreObserver(SyncMetrics& metrics, const std::string& connection, std::string_view store)
      : registry_(metrics.registry_),
        duration_(metrics.request_duration_.Add(
            {{"connection", connection}, {"store", std::string(store)}}, kRequestBuckets)),
        throttled_total_(metrics.throttled_.Add({{"connection", connection}})) {
    for (const auto outcome : {net::ExchangeOutcome::ok, net::ExchangeOutcome::throttled,
                               net::ExchangeOutcome::client_error,
                               net::ExchangeOutcome::server_error, net::ExchangeOutcome::failed})
      by_outcome_[static_cast<std::size_t>(outcome)] =
          &metrics.requests_.Add({{"connection", connection},
                                  {"store", std::string(store)},
                                  {"outcome", std::string(net::to_string(outcome))}});
  }

  void exchanged(net::ExchangeOutcome outcome, std::chrono::duration<double> elapsed) override {
    by_outcome_[static_cast<std::size_t>(outcome)]->Increment();
    duration_.Observe(elapsed.count());
    if (outcome == net::ExchangeOutcome::throttled) throttled_total_.Increment();
  }

 private:
  // The series are the registry's and live as long as it (a store may outlive the Service in a
  // run abandoned at stop): one lookup here, none per request.
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* by_outcome_[5] = {};
  prometheus::Histogram& duration_;
  prometheus::Counter& throttled_total_;
};

SyncMetrics::SyncMetrics(std::string_view version)
    : registry_(std::make_shared<prometheus::Registry>()),
      runs_(registered(prometheus::BuildCounter(), "packagebee_sync_runs_total",
                       "Sync runs ended, by kind (full, smart), trigger (schedule, manual) and "
                       "result (ok, partial, failed).",
                       *registry_)),
      duration_(registered(prometheus::BuildHistogram(), "packagebee_sync_duration_seconds",
                           "How long sync runs took, start to end.", *registry_)),
      last_success_(registered(prometheus::BuildGauge(),
                               "packagebee_sync_last_success_timestamp_seconds",
                               "When the connection's last ok run ended (Unix time).", *registry_)),
      last_run_(registered(prometheus::BuildGauge(), "packagebee_sync_last_run_timestamp_seconds",
                           "When the connection's last run ended, whatever its result.",
                           *registry_)),
      schedule_(registered(prometheus::BuildGauge(), "packagebee_sync_schedule_seconds",
                           "The connection's automatic sync interval (inventory.schedule).",
                           *registry_)),
      running_(registered(prometheus::BuildGauge(), "packagebee_sync_running",
                          "1 while a run of the connection is in flight.", *registry_)),
      skus_(registered(prometheus::BuildGauge(), "packagebee_skus",
                       "Listed SKUs by state (pending, settled, rejected), as of the end of the "
                       "connection's last run.",
                       *registry_)),
      pushed_(registered(prometheus::BuildCounter(), "packagebee_skus_pushed_total",
                         "SKU quantities the store confirmed, by run kind.", *registry_)),
      rejected_(registered(prometheus::BuildCounter(), "packagebee_skus_rejected_total",
                           "SKU quantities the store refused.", *registry_)),
      bad_rows_(registered(prometheus::BuildCounter(), "packagebee_feed_bad_rows_total",
                           "Warehouse feed rows that could not be used.", *registry_)),
      requests_(registered(prometheus::BuildCounter(), "packagebee_store_requests_total",
                           "HTTP requests to the store API, by outcome (ok, throttled, "
                           "client_error, server_error, failed).",
                           *registry_)),
      throttled_(registered(prometheus::BuildCounter(), "packagebee_store_throttled_total",
                            "Store requests answered with 429 or a THROTTLED error.", *registry_)),
      request_duration_(
          registered(prometheus::BuildHistogram(), "packagebee_store_request_duration_seconds",
                     "How long store API requests took, answered or not.", *registry_)),
      paused_(registered(prometheus::BuildGauge(), "packagebee_connection_paused",
                         "1 while the connection's automatic runs are paused (beectl pause).",
                         *registry_)) {
  registered(prometheus::BuildGauge(), "packagebee_build_info",
             "Always 1; the version label says which beed runs.", *registry_)
      .Add({{"version", std::string(version)}})
      .Set(1);
}

void SyncMetrics::add_connection(const config::ConnectionConfig& connection) {
  const Labels c{{"connection", connection.name}};
  schedule_.Add(c).Set(static_cast<double>(connection.inventory.schedule.count()));
  running_.Add(c);
  paused_.Add(c);
  last_success_.Add(c);
  last_run_.Add(c);
  rejected_.Add(c);
  bad_rows_.Add(c);
  for (const auto kind : {SyncKind::full, SyncKind::smart})
    pushed_.Add({{"connection", connection.name}, {"kind", std::string(to_string(kind))}});
  for (const char* state : {"pending", "settled", "rejected"})
    skus_.Add({{"connection", connection.name}, {"state", state}});
}

void SyncMetrics::run_finished(const std::string& connection, const state::RunRecord& run) {
  const std::string kind(to_string(run.kind));
  runs_
      .Add({{"connection", connection},
            {"kind", kind},
            {"trigger", std::string(to_string(run.trigger))},
            {"result", std::string(to_string(run.result))}})
      .Increment();
  duration_.Add({{"connection", connection}, {"kind", kind}}, kRunBuckets)
      .Observe(seconds(run.finished_at - run.started_at));
  const Labels c{{"connection", connection}};
  last_run_.Add(c).Set(seconds(run.finished_at));
  if (run.result == RunResult::ok) last_success_.Add(c).Set(seconds(run.finished_at));
  pushed_.Add({{"connection", connection}, {"kind", kind}})
      .Increment(static_cast<double>(run.pushed));
  rejected_.Add(c).Increment(static_cast<double>(run.rejected));
  bad_rows_.Add(c).Increment(static_cast<double>(run.bad_rows));
}

void SyncMetrics::set_last_runs(const std::string& connection, UnixMillis last_finished,
                                UnixMillis last_ok) {
  const Labels c{{"connection", connection}};
  if (last_finished != 0) last_run_.Add(c).Set(seconds(last_finished));
  if (last_ok != 0) last_success_.Add(c).Set(seconds(last_ok));
}

void SyncMetrics::set_skus(const std::string& connection, const SkuCounts& counts) {
  const auto set = [&](const char* state, std::uint64_t n) {
    skus_.Add({{"connection", connection}, {"state", state}}).Set(static_cast<double>(n));
  };
  set("pending", counts.pending);
  set("settled", counts.settled);
  set("rejected", counts.rejected);
}

void SyncMetrics::set_state(const std::string& connection, bool paused, bool running) {
  const Labels c{{"connection", connection}};
  paused_.Add(c).Set(paused ? 1 : 0);
  running_.Add(c).Set(running ? 1 : 0);
}

std::shared_ptr<net::ExchangeObserver> SyncMetrics::store_observer(const std::string& connection,
                                                                   std::string_view store) {
  return std::make_shared<StoreObserver>(*this, connection, store);
}

std::string SyncMetrics::serialize() const {
  auto families = registry_->Collect();
  auto process = process_.Collect();
  families.insert(families.end(), std::make_move_iterator(process.begin()),
                  std::make_move_iterator(process.end()));
  return prometheus::TextSerializer().Serialize(families);
}

std::string_view store_type(const config::StoreConfig& store) {
  constexpr std::string_view kTypes[] = {"csv",     "shopify", "woocommerce", "bigcommerce",
                                         "magento", "medusa",  "vendure"};
  static_assert(std::size(kTypes) == std::variant_size_v<config::StoreConfig>);
  return kTypes[store.index()];
}

}  // namespace pb::metrics
