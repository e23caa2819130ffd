#include "sys/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace pb::sys {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// Between SIGTERM and SIGKILL at the deadline, time for the hook to clean up.
constexpr milliseconds kKillGrace{2000};
constexpr std::size_t kChunk = 64 * 1024;  // a default pipe buffer

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::system_category(), what);
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  // No retry on EINTR: Linux has closed the fd even then.
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

// Both ends close-on-exec (another thread's child must not inherit them) and
// above 2: were beed started with stdin closed, pipe2 could hand out fd 0, and
// the child's dup2 onto 0-2 would then overwrite one pipe end with another.
Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) throw_errno("pipe2");
  Pipe p{Fd(fds[0]), Fd(fds[1])};
  for (Fd* end : {&p.read, &p.write}) {
    if (end->get() > 2) continue;
    const int moved = ::fcntl(end->get(), F_DUPFD_CLOEXEC, 3);
    if (moved < 0) throw_errno("fcntl(F_DUPFD_CLOEXEC)");
    *end = Fd(moved);
  }
  return p;
}

// Only on beed's end: O_NONBLOCK belongs to the open file description, which
// the child's end does not share, so the child still sees ordinary blocking I/O.
void set_nonblocking(const Fd& fd) {
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
    throw_errno("fcntl(O_NONBLOCK)");
  }
}

using Vars = std::vector<std::pair<std::string, std::string>>;

// The defaults, then spec.env replacing or adding. Names are checked because a
// '=' or NUL would silently turn into a different variable in the child.
std::optional<std::string> child_environment(const Vars& extra, Vars& vars) {
  vars = {{"PATH", std::string(kDefaultPath)}, {"LANG", "C.UTF-8"}};
  for (const auto& variable : extra) {
    // Named references, not a structured binding: clang 14 (the fuzz build) cannot capture
    // one in the lambda below.
    const std::string& name = variable.first;
    const std::string& value = variable.second;
    if (name.empty() || name.find_first_of(std::string_view("=\0", 2)) != std::string::npos ||
        value.find('\0') != std::string::npos) {
      return "invalid environment variable \"" + name + "\"";
    }
    const auto it =
        std::find_if(vars.begin(), vars.end(), [&](const auto& v) { return v.first == name; });
    if (it != vars.end()) {
      it->second = value;
    } else {
      vars.emplace_back(name, value);
    }
  }
  return std::nullopt;
}

bool is_executable_file(const std::string& path, int& err) {
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0 || !S_ISREG(st.st_mode)) {
    err = ENOENT;
    return false;
  }
  if (::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) < 0) {
    err = EACCES;
    return false;
  }
  return true;
}

// execvp's search, done here because posix_spawnp would search beed's own
// PATH, not the child's. Empty entries (the current directory, to execvp)
// are skipped: a hook must not depend on where beed happened to start.
// Returns the path to run, or the error text.
std::string resolve(const std::string& name, const std::string& search, std::string& error) {
  if (name.find('/') != std::string::npos) return name;
  std::string_view path = search;
  std::string denied;  // as execvp: a match we may not run beats no match
  while (!path.empty()) {
    const auto colon = path.find(':');
    const std::string_view dir = path.substr(0, colon);
    path = colon == std::string_view::npos ? std::string_view() : path.substr(colon + 1);
    if (dir.empty() || name.empty()) continue;
    std::string candidate = std::string(dir) + "/" + name;
    int err = 0;
    if (is_executable_file(candidate, err)) return candidate;
    if (err == EACCES && denied.empty()) denied = std::move(candidate);
  }
  if (denied.empty()) {
    error = name + ": " + errno_text(ENOENT) + " (searched PATH " + search + ")";
  } else {
    error = denied + ": " + errno_text(EACCES);
  }
  return {};
}

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

// Writing to a child that closed stdin raises SIGPIPE, aimed at the writing
// thread. Blocking it in this thread turns it into a plain EPIPE without
// touching the process-wide disposition (beed's to choose); the signal left
// pending is consumed before the old mask comes back, unless one was pending
// already (then it is not ours to swallow).
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    was_pending_ = ::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlocked() {
    if (raised_ && !was_pending_) {
      const timespec zero{};
      while (::sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

  void raised() { raised_ = true; }

 private:
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
  bool raised_ = false;
};

// Owns the child until it is reaped, so that no way out of run_child (an
// exception included) leaves it running or a zombie. Signalling the group is
// safe until then: an unreaped leader keeps its pid, hence the group id, from
// being reused. Assumes beed neither ignores SIGCHLD nor reaps with
// waitpid(-1), either of which would take the exit status from us.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() {
    if (pid_ > 0) {
      kill_group(SIGKILL);
      reap();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  void kill_group(int sig) const { ::kill(-pid_, sig); }

  // Without reaping (WNOWAIT), so the group id stays ours.
  bool has_exited() const {
    siginfo_t info{};
    int r;
    do {
      r = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
    } while (r < 0 && errno == EINTR);
    return r < 0 || info.si_pid == pid_;  // ECHILD: gone, whoever reaped it
  }

  // The wait status, or nothing if someone else reaped the child.
  std::optional<int> reap() {
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    pid_ = -1;
    if (r < 0) return std::nullopt;
    return status;
  }

 private:
  pid_t pid_;
};

// Feeds stdin_data, collects output, and watches the clock. The leader's exit
// ends the run: all it wrote is in the pipe by then, so what is buffered is
// read and the pipes closed, rather than waiting for an EOF that a background
// grandchild holding stdout could put off until the deadline.
class Session {
 public:
  Session(const ChildSpec& spec, Child& child, Fd in, Fd out, Fd pidfd, SigpipeBlocked& sigpipe,
          Clock::time_point deadline, ChildResult& result)
      : spec_(spec),
        child_(child),
        in_(std::move(in)),
        out_(std::move(out)),
        pidfd_(std::move(pidfd)),
        sigpipe_(sigpipe),
        deadline_(deadline),
        result_(result),
        buf_(kChunk) {
    if (spec_.stdin_data.empty()) in_.reset();
  }

  // Returns whether the deadline passed (the group was sent SIGTERM).
  bool run() {
    for (;;) {
      if (child_.has_exited()) {
        in_.reset();
        while (out_ && Clock::now() < limit() && read_some()) {
        }
        return timed_out_;
      }
      const auto now = Clock::now();
      if (!timed_out_ && now >= deadline_) {
        timed_out_ = true;
        child_.kill_group(SIGTERM);
        kill_at_ = now + kKillGrace;
        in_.reset();
      }
      if (timed_out_ && now >= kill_at_) return true;
      wait(now);
    }
  }

 private:
  Clock::time_point limit() const { return timed_out_ ? kill_at_ : deadline_; }

  void wait(Clock::time_point now) {
    auto ms = std::chrono::ceil<milliseconds>(limit() - now).count();
    // Without a pidfd (a kernel before 5.3, or a seccomp filter) nothing wakes
    // poll when the child exits, so look again every few milliseconds.
    if (!pidfd_) ms = std::min<decltype(ms)>(ms, 20);
    pollfd fds[3];
    nfds_t n = 0;
    const auto add = [&](const Fd& fd, short events) {
      if (fd) fds[n++] = pollfd{fd.get(), events, 0};
    };
    add(in_, POLLOUT);
    add(out_, POLLIN);
    add(pidfd_, POLLIN);
    const int r = ::poll(fds, n, static_cast<int>(ms));
    if (r < 0) {
      if (errno == EINTR) return;
      throw_errno("poll");
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (in_ && fds[i].fd == in_.get()) write_some();
      if (out_ && fds[i].fd == out_.get()) read_some();
    }
  }

  void write_some() {
    const std::string& data = spec_.stdin_data;
    const std::size_t len = std::min(data.size() - written_, kChunk);
    const ssize_t n = ::write(in_.get(), data.data() + written_, len);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) return;
      if (errno == EPIPE) sigpipe_.raised();
      in_.reset();  // EPIPE: the child closed stdin, which it may do
      return;
    }
    written_ += static_cast<std::size_t>(n);
    if (written_ == data.size()) in_.reset();
  }

  // One read per call, so a chatty child cannot keep us from the clock.
  // Returns whether there may be more to read now.
  bool read_some() {
    const ssize_t n = ::read(out_.get(), buf_.data(), buf_.size());
    if (n < 0) {
      if (errno == EINTR) return true;
      if (errno == EAGAIN) return false;
      out_.reset();
      return false;
    }
    if (n == 0) {
      out_.reset();
      return false;
    }
    const auto got = static_cast<std::size_t>(n);
    const std::size_t room =
        result_.output.size() < spec_.output_limit ? spec_.output_limit - result_.output.size() : 0;
    const std::size_t keep = std::min(got, room);
    result_.output.append(buf_.data(), keep);
    result_.output_dropped += got - keep;
    return true;
  }

  const ChildSpec& spec_;
  Child& child_;
  Fd in_;
  Fd out_;
  Fd pidfd_;
  SigpipeBlocked& sigpipe_;
  Clock::time_point deadline_;
  ChildResult& result_;
  std::vector<char> buf_;
  std::size_t written_ = 0;
  bool timed_out_ = false;
  Clock::time_point kill_at_{};
};

// The raw syscall: glibc 2.36's <sys/pidfd.h> lacks extern "C", so its
// pidfd_open does not link from C++. -1 on kernels before 5.3 (see wait()).
int open_pidfd(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U));
}

std::string duration_text(milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

}  // namespace

std::string ChildResult::describe() const {
  switch (status) {
    case Status::exited:
      return "exited with " + std::to_string(code);
    case Status::signalled:
      return "killed by signal " + std::to_string(code);
    case Status::timed_out:
      return "timed out after " + duration_text(timeout) + " (killed)";
    case Status::spawn_failed:
      return "could not start " + error;
  }
  return "unknown";
}

ChildResult run_child(const ChildSpec& spec) {
  const auto start = Clock::now();
  ChildResult result;
  result.timeout = spec.timeout;
  const auto failed = [&](std::string error) {
    result.status = ChildResult::Status::spawn_failed;
    result.error = std::move(error);
    result.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    return result;
  };

  if (spec.argv.empty()) return failed("an empty command");
  const std::string& name = spec.argv.front();
  Vars vars;
  if (auto bad = child_environment(spec.env, vars)) return failed(name + ": " + *bad);
  std::string error;
  const std::string exe = resolve(name, vars.front().second, error);
  if (exe.empty()) return failed(error);

  Pipe in = make_pipe();
  Pipe out = make_pipe();
  set_nonblocking(in.write);
  set_nonblocking(out.read);

  // Before the spawn, which may fail, so the mask is restored either way; the
  // child gets its own empty mask from the spawn attributes.
  SigpipeBlocked sigpipe;
  pid_t pid = 0;
  if (const int err = spawn(exe, spec.argv, vars, in.read, out.write, pid)) {
    return failed(exe + ": " + errno_text(err));
  }
  Child child(pid);
  // Our copies of the child's ends go, or we would never see EOF or EPIPE.
  in.read.reset();
  out.write.reset();
  Fd pidfd(open_pidfd(pid));

  Session session(spec, child, std::move(in.write), std::move(out.read), std::move(pidfd), sigpipe,
                  start + spec.timeout, result);
  const bool timed_out = session.run();
  // Also after a leader that died of SIGTERM: whatever it left in the group,
  // perhaps ignoring SIGTERM, must not outlive the hook.
  if (timed_out) child.kill_group(SIGKILL);
  const std::optional<int> status = child.reap();
  result.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);

  int code = -1;  // the status was lost (see Child)
  bool signalled = false;
  if (status && WIFSIGNALED(*status)) {
    code = WTERMSIG(*status);
    signalled = true;
  } else if (status && WIFEXITED(*status)) {
    code = WEXITSTATUS(*status);
  }
  result.code = code;
  if (timed_out) {
    result.status = ChildResult::Status::timed_out;
  } else {
    result.status = signalled ? ChildResult::Status::signalled : ChildResult::Status::exited;
  }
  return result;
}

}  // namespace pb::sys
