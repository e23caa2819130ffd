// Pushing one batch to the store: the store's answers filed per item, the transient part tried
// again with backoff within the run, and a verdict for every item at the end.
#pragma once

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "connectors/store/store.hpp"
#include "log/fields.hpp"
#include "sync/batch_planner.hpp"
#include "sync/sync_run.hpp"

namespace pb::sync {

struct BatchOutcome {
  std::vector<ItemVerdict> verdicts;
  bool store_down = false;  // nothing in the batch got through after every attempt
  std::string last_error;
};

// Pushes `batch`, retrying the transient part, and gives every item its verdict.
boost::asio::awaitable<BatchOutcome> push_with_retries(
    const RunEnvironment& env, const std::string& reference, const log::Fields& fields,
    const std::vector<connectors::PushItem>& batch);

}  // namespace pb::sync
