#include "sys/child_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace pb::sys::detail {

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

void throw_errno(const char* what) {
  throw std::system_error(errno, std::system_category(), what);
}

// No retry on EINTR: Linux has closed the fd even then.
void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

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

void set_nonblocking(const Fd& fd) {
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
    throw_errno("fcntl(O_NONBLOCK)");
  }
}

}  // namespace pb::sys::detail
