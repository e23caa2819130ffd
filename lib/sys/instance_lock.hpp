// Keeps two beed processes off the same state directory: an flock on
// DIR/beed.lock held for the daemon's lifetime, so a second beed fails at
// start instead of sharing LMDB files and unlinking the live control socket.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <stdexcept>

namespace pb::sys {

// Another process holds the lock. The pid is the one it wrote into the lock
// file, absent when it has not written it yet (it just took the lock).
class InstanceLockHeld : public std::runtime_error {
 public:
  InstanceLockHeld(const std::filesystem::path& dir, std::optional<pid_t> holder);
  std::optional<pid_t> holder() const { return holder_; }

 private:
  std::optional<pid_t> holder_;
};

// RAII: the constructor takes the lock or throws (InstanceLockHeld, or
// std::system_error when the file cannot be opened or locked); the destructor
// releases it by closing the file. The file itself stays: unlinking it would
// let a third process lock a new inode while a second still waits on the old.
class InstanceLock {
 public:
  explicit InstanceLock(const std::filesystem::path& dir);
  ~InstanceLock();
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace pb::sys
