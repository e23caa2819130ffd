// The per-connection `on_failure` hook: a command beed runs when a run fails (or ends partial),
// with the run's summary as JSON on standard input and as PACKAGEBEE_* environment variables,
// so a merchant can mail or page themselves. Its failure is logged, never fatal.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

}  // namespace pb::sync
