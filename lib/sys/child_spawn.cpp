#include "sys/child_spawn.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace pb::sys::detail {

namespace {

// Closes the spawn attribute objects on every way out.
struct SpawnSetup {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attr{};
  SpawnSetup() {
    if (int err = posix_spawn_file_actions_init(&actions)) {
      throw std::system_error(err, std::system_category(), "posix_spawn_file_actions_init");
    }
    if (int err = posix_spawnattr_init(&attr)) {
      posix_spawn_file_actions_destroy(&actions);
      throw std::system_error(err, std::system_category(), "posix_spawnattr_init");
    }
  }
  ~SpawnSetup() {
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

void check_spawn(int err, const char* what) {
  if (err) throw std::system_error(err, std::system_category(), what);
}

}  // namespace

// glibc's posix_spawn (clone + exec, 2.24 and later) returns the exec's errno,
// so a missing or unrunnable file is an error here, not a child exiting 127.
int spawn(const std::string& exe, const std::vector<std::string>& argv, const Vars& vars,
          const Fd& in, const Fd& out, pid_t& pid) {
  SpawnSetup s;
  check_spawn(posix_spawn_file_actions_adddup2(&s.actions, in.get(), 0), "adddup2");
  check_spawn(posix_spawn_file_actions_adddup2(&s.actions, out.get(), 1), "adddup2");
  check_spawn(posix_spawn_file_actions_adddup2(&s.actions, out.get(), 2), "adddup2");
  // beed's own fds are O_CLOEXEC, but one that is not (a library's) must not
  // reach a hook: the LMDB files, the lock file and the control socket.
  check_spawn(posix_spawn_file_actions_addclosefrom_np(&s.actions, 3), "addclosefrom_np");

  // Its own process group, so a timeout can kill whatever the hook started.
  // An empty mask and default dispositions for every signal: beed blocks some
  // and may ignore others (SIGPIPE), and a hook that inherited that would not
  // die of SIGTERM or SIGPIPE as scripts expect.
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);  // glibc leaves out its internal signals
  check_spawn(posix_spawnattr_setflags(
                  &s.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF),
              "setflags");
  check_spawn(posix_spawnattr_setpgroup(&s.attr, 0), "setpgroup");
  check_spawn(posix_spawnattr_setsigmask(&s.attr, &none), "setsigmask");
  check_spawn(posix_spawnattr_setsigdefault(&s.attr, &all), "setsigdefault");

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_text;
  for (const auto& [name, value] : vars) env_text.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  return posix_spawn(&pid, exe.c_str(), &s.actions, &s.attr, args.data(), envp.data());
}

// The raw syscall: glibc 2.36's <sys/pidfd.h> lacks extern "C", so its
// pidfd_open does not link from C++.
int open_pidfd(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U));
}

Child::~Child() {
  if (pid_ > 0) {
    kill_group(SIGKILL);
    reap();
  }
}

void Child::kill_group(int sig) const {
  ::kill(-pid_, sig);
}

bool Child::has_exited() const {
  siginfo_t info{};
  int r;
  do {
    r = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
  } while (r < 0 && errno == EINTR);
  return r < 0 || info.si_pid == pid_;  // ECHILD: gone, whoever reaped it
}

std::optional<int> Child::reap() {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  pid_ = -1;
  if (r < 0) return std::nullopt;
  return status;
}

}  // namespace pb::sys::detail
