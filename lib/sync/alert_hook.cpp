#include "sync/alert_hook.hpp"

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>

#include "async/offload.hpp"
#include "log/log.hpp"

namespace pb::sync {
namespace json = boost::json;

bool should_alert(const config::HookConfig& hook, const state::RunRecord& run) {
  if (hook.command.empty()) return false;
  return run.result == RunResult::failed || (hook.on_partial && run.result == RunResult::partial);
}

namespace {

// One list of fields feeds both the JSON and the environment, so they cannot drift apart.
json::object summary_object(const RunSummary& s) {
  const auto& r = s.run;
  return json::object{
      {"connection", s.connection},
      {"run", r.id},
      {"kind", to_string(r.kind)},
      {"trigger", to_string(r.trigger)},
      {"result", to_string(r.result)},
      {"error", r.error},
      {"read", r.read},
      {"changed", r.changed},
      {"pushed", r.pushed},
      {"rejected", r.rejected},
      {"bad_rows", r.bad_rows},
      {"started_at", format_time(r.started_at)},
      {"finished_at", format_time(r.finished_at)},
      {"warehouse", s.warehouse},
      {"store", s.store},
  };
}

}  // namespace

std::string summary_json(const RunSummary& summary) {
  return json::serialize(summary_object(summary)) + "\n";
}

std::vector<std::pair<std::string, std::string>> summary_environment(const RunSummary& summary) {
  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& [key, value] : summary_object(summary)) {
    std::string name = "PACKAGEBEE_";
    for (const char c : key) name += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    std::string text;
    if (value.is_string())
      text = std::string(value.get_string());
    else
      text = json::serialize(value);
    // An environment value cannot hold NUL; a store's message could, in theory.
    std::erase(text, '\0');
    env.emplace_back(std::move(name), std::move(text));
  }
  return env;
}

sys::ChildResult run_alert_hook(const config::HookConfig& hook, const RunSummary& summary) {
  sys::ChildSpec spec;
  spec.argv = hook.command;
  spec.env = summary_environment(summary);
  spec.stdin_data = summary_json(summary);
  spec.timeout = hook.timeout;
  return sys::run_child(spec);
}

namespace {

log::Fields fields_of(const RunSummary& summary) {
  return {summary.connection, to_string(summary.run.kind), summary.run.id};
}

void log_hook_result(const config::HookConfig& hook, const RunSummary& summary,
                     const sys::ChildResult& result) {
  const auto fields = fields_of(summary);
  if (result.ok()) {
    log::info(fields, "run {}: on_failure hook {} ran ({} ms)", summary.run.id,
              hook.command.front(), result.elapsed.count());
    return;
  }
  std::string output = result.output;
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  log::warn(fields, "run {}: on_failure hook {} {}{}{}", summary.run.id, hook.command.front(),
            result.describe(), output.empty() ? "" : ": ", output);
}

}  // namespace

AlertQueue::AlertQueue(boost::asio::any_io_executor loop, boost::asio::any_io_executor pool)
    : loop_(std::move(loop)), pool_(std::move(pool)) {}

void AlertQueue::submit(config::HookConfig hook, RunSummary summary) {
  if (waiting_) {
    log::info(fields_of(summary), "run {}: on_failure hook for run {} skipped, run {} replaces it",
              summary.run.id, waiting_->summary.run.id, summary.run.id);
  }
  waiting_ = Job{std::move(hook), std::move(summary)};
  if (running_) return;
  running_ = true;
  boost::asio::co_spawn(
      loop_, [self = shared_from_this()] { return self->drain(); }, boost::asio::detached);
}

boost::asio::awaitable<void> AlertQueue::drain() {
  while (waiting_) {
    Job job = std::move(*waiting_);
    waiting_.reset();
    // The work owns copies: it may outlive this frame if the loop is torn down meanwhile.
    auto work = [hook = job.hook, summary = job.summary] { return run_alert_hook(hook, summary); };
    sys::ChildResult result;
    try {
      result = co_await async::offload(pool_, std::move(work));
    } catch (const std::exception& e) {
      log::warn(fields_of(job.summary), "run {}: on_failure hook {} could not run: {}",
                job.summary.run.id, job.hook.command.front(), e.what());
      continue;
    }
    log_hook_result(job.hook, job.summary, result);
  }
  running_ = false;
}

}  // namespace pb::sync
