// The per-connection `on_failure` hook: a command beed runs when a run fails (or ends partial),
// with the run's summary as JSON on standard input and as PACKAGEBEE_* environment variables,
// so a merchant can mail or page themselves. Its failure is logged, never fatal.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "state/records.hpp"
#include "sys/child_process.hpp"

namespace pb::sync {

struct RunSummary {
  std::string connection;
  state::RunRecord run;
  std::string warehouse;  // describe() of each side: no secrets
  std::string store;
};

// Whether `hook` wants to hear about `run`.
bool should_alert(const config::HookConfig& hook, const state::RunRecord& run);

// {"connection":..,"run":..,"kind":..,"trigger":..,"result":..,"error":..,"read":..,
//  "changed":..,"pushed":..,"rejected":..,"bad_rows":..,"started_at":"..Z","finished_at":"..Z",
//  "warehouse":..,"store":..}
std::string summary_json(const RunSummary& summary);
// The same as PACKAGEBEE_CONNECTION, PACKAGEBEE_RUN, ... (upper-case keys).
std::vector<std::pair<std::string, std::string>> summary_environment(const RunSummary& summary);

// Runs the hook and waits for it (up to its timeout). Blocking: call it on the pool.
sys::ChildResult run_alert_hook(const config::HookConfig& hook, const RunSummary& summary);

// One connection's hooks, one process at a time: two failures in quick succession must not
// page the merchant twice at once, nor race on whatever the hook writes. A failure while a
// hook runs waits for it; a later failure meanwhile replaces the waiting one (coalesced: the
// latest summary is the one worth telling, and a hook slower than the runs cannot pile up
// processes), so at most one hook runs and one waits. Lives on the event loop; the hook
// process runs on the pool and is never awaited by a run. Owned through shared_ptr: a hook
// in flight keeps the queue alive. A hook still waiting when beed stops is dropped.
class AlertQueue : public std::enable_shared_from_this<AlertQueue> {
 public:
  AlertQueue(boost::asio::any_io_executor loop, boost::asio::any_io_executor pool);

  // Runs `hook` for `summary` now, or after the hook in flight (replacing a waiting one).
  void submit(config::HookConfig hook, RunSummary summary);

  bool busy() const { return running_; }

 private:
  struct Job {
    config::HookConfig hook;
    RunSummary summary;
  };
  // Runs the waiting job, then the one that arrived meanwhile, until none is left.
  boost::asio::awaitable<void> drain();

  boost::asio::any_io_executor loop_;
  boost::asio::any_io_executor pool_;
  std::optional<Job> waiting_;
  bool running_ = false;
};

}  // namespace pb::sync
