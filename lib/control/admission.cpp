#include "control/admission.hpp"

#include <algorithm>
#include <utility>

namespace pb::control {

Admission::Admission(AdmissionLimits limits) : limits_(std::move(limits)) {}

bool Admission::privileged(uid_t uid) const {
  return std::find(limits_.privileged.begin(), limits_.privileged.end(), uid) !=
         limits_.privileged.end();
}

std::size_t Admission::active(uid_t uid) const {
  const auto it = per_uid_.find(uid);
  return it == per_uid_.end() ? 0 : it->second;
}

std::optional<std::string> Admission::admit(uid_t uid) {
  if (privileged(uid)) {
    // Root must be able to stop a run or reload while readers hold every
    // ordinary slot; the reserve is bounded too, so nothing is unlimited.
    if (active_ >= limits_.max_clients + limits_.reserved) return "too many clients";
  } else {
    // The per-uid cap first: it names the cause the peer can do something about.
    if (active(uid) >= limits_.max_per_uid)
      return "too many connections from uid " + std::to_string(uid) + " (limit " +
             std::to_string(limits_.max_per_uid) + ")";
    if (active_ >= limits_.max_clients) return "too many clients";
  }
  ++active_;
  ++per_uid_[uid];
  return std::nullopt;
}

void Admission::release(uid_t uid) {
  const auto it = per_uid_.find(uid);
  if (it == per_uid_.end()) return;
  --active_;
  if (--it->second == 0) per_uid_.erase(it);
}

}  // namespace pb::control
