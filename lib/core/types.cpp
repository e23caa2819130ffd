#include "core/types.hpp"

#include <array>
#include <ctime>

namespace pb {

UnixMillis now_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_time(UnixMillis t) {
  if (t == 0) return "-";
  const std::time_t secs = static_cast<std::time_t>(t / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 32> buf{};
  const auto n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf.data(), n);
}

namespace {
template <class E, std::size_t N>
std::optional<E> lookup(std::string_view s,
                        const std::array<std::pair<std::string_view, E>, N>& table) {
  for (const auto& [name, value] : table)
    if (name == s) return value;
  return std::nullopt;
}
constexpr std::array<std::pair<std::string_view, SyncKind>, 2> kSyncKinds{
    {{"full", SyncKind::full}, {"smart", SyncKind::smart}}};
constexpr std::array<std::pair<std::string_view, Trigger>, 2> kTriggers{
    {{"schedule", Trigger::schedule}, {"manual", Trigger::manual}}};
constexpr std::array<std::pair<std::string_view, RunResult>, 4> kRunResults{
    {{"running", RunResult::running},
     {"ok", RunResult::ok},
     {"partial", RunResult::partial},
     {"failed", RunResult::failed}}};
constexpr std::array<std::pair<std::string_view, MissingSkus>, 2> kMissing{
    {{"keep", MissingSkus::keep}, {"zero", MissingSkus::zero}}};
constexpr std::array<std::pair<std::string_view, DuplicatePolicy>, 2> kDuplicates{
    {{"error", DuplicatePolicy::error}, {"sum", DuplicatePolicy::sum}}};

template <class E, std::size_t N>
std::string_view name_of(E value, const std::array<std::pair<std::string_view, E>, N>& table) {
  for (const auto& [name, v] : table)
    if (v == value) return name;
  return "?";
}
}  // namespace

std::string_view to_string(SyncKind k) {
  return name_of(k, kSyncKinds);
}
std::string_view to_string(Trigger t) {
  return name_of(t, kTriggers);
}
std::string_view to_string(RunResult r) {
  return name_of(r, kRunResults);
}
std::string_view to_string(MissingSkus m) {
  return name_of(m, kMissing);
}
std::string_view to_string(DuplicatePolicy d) {
  return name_of(d, kDuplicates);
}

std::optional<SyncKind> parse_sync_kind(std::string_view s) {
  return lookup(s, kSyncKinds);
}
std::optional<Trigger> parse_trigger(std::string_view s) {
  return lookup(s, kTriggers);
}
std::optional<RunResult> parse_run_result(std::string_view s) {
  return lookup(s, kRunResults);
}
std::optional<MissingSkus> parse_missing_skus(std::string_view s) {
  return lookup(s, kMissing);
}
std::optional<DuplicatePolicy> parse_duplicate_policy(std::string_view s) {
  return lookup(s, kDuplicates);
}

bool is_valid_connection_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name.front())) return false;
  for (char c : name)
    if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

}  // namespace pb
