// Owned file descriptors and the pipes between beed and a hook's child
// process (run_child's plumbing, not a general-purpose fd wrapper).
#pragma once

#include <string>
#include <utility>

namespace pb::sys::detail {

std::string errno_text(int err);
// Throws std::system_error for the current errno.
[[noreturn]] void throw_errno(const char* what);

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
  void reset();

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
Pipe make_pipe();

// Only on beed's end: O_NONBLOCK belongs to the open file description, which
// the child's end does not share, so the child still sees ordinary blocking I/O.
void set_nonblocking(const Fd& fd);

}  // namespace pb::sys::detail
