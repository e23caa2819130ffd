// Runs a short-lived child process to completion: the per-connection
// on_failure alert hook. Blocking, so beed calls it on a worker thread, never
// on the event loop. The child starts clean (its own process group, a fixed
// environment, default signals, only fds 0-2), cannot stall beed by not
// reading its input or by writing too much, and is killed with its whole
// process group when it overruns its timeout.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace pb::sys {

struct ChildSpec {
  // argv[0] is a path (it contains a '/') or a name looked up in the child's
  // PATH below, not in beed's.
  std::vector<std::string> argv;
  // The child's whole environment is these plus
  // PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin and
  // LANG=C.UTF-8, which an entry of the same name replaces. Nothing of beed's
  // own environment (CREDENTIALS_DIRECTORY, NOTIFY_SOCKET, ...) is passed on.
  std::vector<std::pair<std::string, std::string>> env;
  // Written to the child's stdin, which is then closed. A child that exits
  // or closes stdin without reading it all is not an error.
  std::string stdin_data;
  std::chrono::milliseconds timeout{30000};
  // Bytes of stdout and stderr (one pipe, so in the order written) kept in
  // ChildResult::output; the rest is read, counted and dropped.
  std::size_t output_limit = 4096;
};

struct ChildResult {
  // timed_out: the child was still running at the deadline and its process
  // group was sent SIGTERM, then SIGKILL after a 2 s grace period.
  enum class Status { exited, signalled, timed_out, spawn_failed };

  Status status = Status::spawn_failed;
  // The exit code (exited) or signal number (signalled); for timed_out, the
  // signal that ended it, or its exit code if it exited on SIGTERM.
  int code = 0;
  std::string output;
  std::size_t output_dropped = 0;
  // spawn_failed only: what could not be started, and why.
  std::string error;
  std::chrono::milliseconds elapsed{};
  // The spec's timeout, so describe() can name the limit that was hit.
  std::chrono::milliseconds timeout{};

  bool ok() const { return status == Status::exited && code == 0; }
  // One line for logs: "exited with 3", "killed by signal 9",
  // "timed out after 30 s (killed)", "could not start /x/y: No such file or directory".
  std::string describe() const;
};

// Blocks until the child has ended and been reaped, or could not be started.
// The child's exit ends the run: a background process it left behind is not
// waited for (nor killed, unless at a timeout) and its output is not read.
// beed must neither ignore SIGCHLD nor reap with waitpid(-1): either takes
// the exit status from us (the result is then "exited with -1").
// Safe to call from several threads at once; the calling thread's signal mask
// is restored and any SIGPIPE it raised is consumed before returning.
ChildResult run_child(const ChildSpec& spec);

}  // namespace pb::sys
