#include "sync/alert_hook.hpp"

#include <boost/json.hpp>

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

}  // namespace pb::sync
