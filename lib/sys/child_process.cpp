// run_child's steps in order; the parts live in child_command (environment and
// program), child_spawn (posix_spawn and reaping), child_session (I/O, timeout).
#include "sys/child_process.hpp"

#include <sys/wait.h>

#include <optional>
#include <utility>

#include "sys/child_command.hpp"
#include "sys/child_fd.hpp"
#include "sys/child_session.hpp"
#include "sys/child_spawn.hpp"

namespace pb::sys {

namespace {

using detail::Clock;
using std::chrono::milliseconds;

std::string duration_text(milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

// The outcome from the wait status; nothing means it was lost (see Child).
void set_outcome(const std::optional<int>& status, bool timed_out, ChildResult& result) {
  int code = -1;
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
  using namespace detail;
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
  set_outcome(status, timed_out, result);
  return result;
}

}  // namespace pb::sys
