#include "sys/child_session.hpp"

#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace pb::sys::detail {

namespace {

using std::chrono::milliseconds;

// Between SIGTERM and SIGKILL at the deadline, time for the hook to clean up.
constexpr milliseconds kKillGrace{2000};
constexpr std::size_t kChunk = 64 * 1024;  // a default pipe buffer

}  // namespace

SigpipeBlocked::SigpipeBlocked() {
  sigemptyset(&pipe_);
  sigaddset(&pipe_, SIGPIPE);
  sigset_t pending;
  sigemptyset(&pending);
  was_pending_ = ::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
  ::pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
}

SigpipeBlocked::~SigpipeBlocked() {
  if (raised_ && !was_pending_) {
    const timespec zero{};
    while (::sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

Session::Session(const ChildSpec& spec, Child& child, Fd in, Fd out, Fd pidfd,
                 SigpipeBlocked& sigpipe, Clock::time_point deadline, ChildResult& result)
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

bool Session::run() {
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

void Session::wait(Clock::time_point now) {
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

void Session::write_some() {
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
bool Session::read_some() {
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

}  // namespace pb::sys::detail
