// A running hook's I/O and clock: feeding its stdin, collecting its output
// up to the limit, and the deadline's SIGTERM, then SIGKILL after a grace.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstddef>
#include <vector>

#include "sys/child_fd.hpp"
#include "sys/child_process.hpp"
#include "sys/child_spawn.hpp"

namespace pb::sys::detail {

using Clock = std::chrono::steady_clock;

// Writing to a child that closed stdin raises SIGPIPE, aimed at the writing
// thread. Blocking it in this thread turns it into a plain EPIPE without
// touching the process-wide disposition (beed's to choose); the signal left
// pending is consumed before the old mask comes back, unless one was pending
// already (then it is not ours to swallow).
class SigpipeBlocked {
 public:
  SigpipeBlocked();
  ~SigpipeBlocked();
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

  void raised() { raised_ = true; }

 private:
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
  bool raised_ = false;
};

// Feeds stdin_data, collects output, and watches the clock. The leader's exit
// ends the run: all it wrote is in the pipe by then, so what is buffered is
// read and the pipes closed, rather than waiting for an EOF that a background
// grandchild holding stdout could put off until the deadline.
class Session {
 public:
  Session(const ChildSpec& spec, Child& child, Fd in, Fd out, Fd pidfd, SigpipeBlocked& sigpipe,
          Clock::time_point deadline, ChildResult& result);

  // Returns whether the deadline passed (the group was sent SIGTERM).
  bool run();

 private:
  Clock::time_point limit() const { return timed_out_ ? kill_at_ : deadline_; }
  void wait(Clock::time_point now);
  void write_some();
  bool read_some();

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

}  // namespace pb::sys::detail
