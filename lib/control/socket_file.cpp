#include "control/socket_file.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace pb::control {
namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::system_category(), what);
}

sockaddr_un address_of(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  return addr;
}

}  // namespace

void make_socket_directory(const std::filesystem::path& socket_path) {
  if (!socket_path.has_parent_path()) return;
  const std::filesystem::path dir = socket_path.parent_path();
  std::error_code fs_error;
  if (std::filesystem::create_directories(dir, fs_error) && !fs_error)
    std::filesystem::permissions(dir, std::filesystem::perms(0750),
                                 std::filesystem::perm_options::replace, fs_error);
  if (fs_error)
    throw std::system_error(
        fs_error, "cannot create the directory of control socket " + socket_path.string());
}

// Never unlink another live instance's socket (STYLE item 7): probe it first.
void clear_stale_socket(const std::filesystem::path& path) {
  struct stat sb {};
  if (::lstat(path.c_str(), &sb) != 0) {
    if (errno == ENOENT) return;
    throw_errno(errno, "cannot inspect control socket " + path.string());
  }
  if (!S_ISSOCK(sb.st_mode))
    throw std::system_error(EEXIST, std::generic_category(),
                            path.string() + " exists and is not a socket");
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw_errno(errno, "cannot probe control socket " + path.string());
  const sockaddr_un addr = address_of(path);
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int err = rc == 0 ? 0 : errno;
  ::close(fd);
  // EAGAIN: a listener whose backlog is full is still a live listener.
  if (rc == 0 || err == EAGAIN || err == EINPROGRESS)
    throw std::system_error(EADDRINUSE, std::generic_category(),
                            "another beed is already listening on " + path.string());
  if (err == ENOENT) return;
  if (err != ECONNREFUSED) throw_errno(err, "cannot probe control socket " + path.string());
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    throw_errno(errno, "cannot remove stale control socket " + path.string());
}

void bind_socket_file(int fd, const std::filesystem::path& path, unsigned mode) {
  const sockaddr_un addr = address_of(path);
  // bind() creates the file with 0777 minus the umask, and a chmod() after it
  // would leave a moment in which the file is as open as the umask allows
  // (world-writable under umask 000). So the umask is set to give exactly
  // `mode` for the bind() alone. The umask is per process: this runs in
  // Server::start(), before the io_context and its worker threads do anything
  // that creates files.
  const mode_t old = ::umask(static_cast<mode_t>(~mode & 0777u));
  const int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int err = errno;
  ::umask(old);
  if (rc != 0) throw_errno(err, "cannot bind control socket " + path.string());
}

}  // namespace pb::control
