// The standard process_* metrics (CPU, memory, descriptors, start time) that Prometheus client
// libraries export, read from /proc/self at each scrape. prometheus-cpp has none of its own.
#pragma once

#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace pb::metrics {

class ProcessCollector : public prometheus::Collectable {
 public:
  // Empty when /proc cannot be read (not Linux, a restricted sandbox).
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace pb::metrics
