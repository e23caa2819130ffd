#include "sys/instance_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>
#include <system_error>

namespace pb::sys {

namespace {

std::string held_message(const std::filesystem::path& dir, std::optional<pid_t> holder) {
  std::string text = "another beed ";
  if (holder) text += "(pid " + std::to_string(*holder) + ") ";
  return text + "is already using " + dir.string();
}

// Best effort: the holder may not have written its pid yet, or the file may
// hold garbage; either way the caller still reports that the lock is taken.
std::optional<pid_t> read_pid(int fd) {
  char buf[32];
  const ssize_t n = pread(fd, buf, sizeof buf, 0);
  if (n <= 0) return std::nullopt;
  const char* end = buf + n;
  pid_t pid = 0;
  const auto [ptr, ec] = std::from_chars(buf, end, pid);
  if (ec != std::errc{} || ptr == buf || pid <= 0) return std::nullopt;
  return pid;
}

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::system_category(), what);
}

}  // namespace

InstanceLockHeld::InstanceLockHeld(const std::filesystem::path& dir, std::optional<pid_t> holder)
    : std::runtime_error(held_message(dir, holder)), holder_(holder) {}

InstanceLock::InstanceLock(const std::filesystem::path& dir) : path_(dir / "beed.lock") {
  // O_NOFOLLOW: a symlink planted in the state directory must not make beed
  // create or truncate a file elsewhere.
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd_ < 0) throw_errno(errno, "cannot open " + path_.string());
  int r;
  do {
    r = ::flock(fd_, LOCK_EX | LOCK_NB);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    const int err = errno;
    const auto holder = err == EWOULDBLOCK ? read_pid(fd_) : std::nullopt;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) throw InstanceLockHeld(dir, holder);
    throw_errno(err, "cannot lock " + path_.string());
  }
  // Only the holder writes, so truncating here cannot clobber a live pid.
  const std::string pid = std::to_string(getpid()) + "\n";
  if (::ftruncate(fd_, 0) < 0 ||
      ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw_errno(err, "cannot write " + path_.string());
  }
}

InstanceLock::~InstanceLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace pb::sys
