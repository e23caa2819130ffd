// Who may take one of the control server's connection slots: a cap per
// unprivileged uid, so that one reader cannot fill them all, and slots past
// max_clients that only root and beed's own user may take.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace pb::control {

struct AdmissionLimits {
  std::size_t max_clients = 64;   // for everyone together
  std::size_t max_per_uid = 16;   // for one unprivileged uid
  std::size_t reserved = 8;       // past max_clients, for privileged uids only
  std::vector<uid_t> privileged;  // no per-uid cap, and the reserved slots
};

// Counts the slots in use by uid. One thread (the server's io_context).
class Admission {
 public:
  explicit Admission(AdmissionLimits limits);

  // Takes a slot for `uid` and returns nullopt, or returns why not (the text
  // of the `busy` reply) and takes nothing.
  std::optional<std::string> admit(uid_t uid);
  // Gives back a slot admit() took.
  void release(uid_t uid);

  std::size_t active() const { return active_; }
  std::size_t active(uid_t uid) const;
  bool privileged(uid_t uid) const;

 private:
  AdmissionLimits limits_;
  std::size_t active_ = 0;
  std::unordered_map<uid_t, std::size_t> per_uid_;
};

}  // namespace pb::control
