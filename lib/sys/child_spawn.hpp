// Starting a hook's child process with posix_spawn in a clean state, and
// owning it until it is reaped.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "sys/child_command.hpp"
#include "sys/child_fd.hpp"

namespace pb::sys::detail {

// Starts `exe` with `in` as its stdin and `out` as its stdout and stderr, in its
// own process group, with an empty signal mask, default signal dispositions
// and only fds 0-2. Returns 0 and sets `pid`, or the errno of the failed exec.
int spawn(const std::string& exe, const std::vector<std::string>& argv, const Vars& vars,
          const Fd& in, const Fd& out, pid_t& pid);

// A pidfd for `pid`, or -1 where the kernel has none (before 5.3).
int open_pidfd(pid_t pid);

// Owns the child until it is reaped, so that no way out of run_child (an
// exception included) leaves it running or a zombie. Signalling the group is
// safe until then: an unreaped leader keeps its pid, hence the group id, from
// being reused. Assumes beed neither ignores SIGCHLD nor reaps with
// waitpid(-1), either of which would take the exit status from us.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  void kill_group(int sig) const;
  // Without reaping (WNOWAIT), so the group id stays ours.
  bool has_exited() const;
  // The wait status, or nothing if someone else reaped the child.
  std::optional<int> reap();

 private:
  pid_t pid_;
};

}  // namespace pb::sys::detail
