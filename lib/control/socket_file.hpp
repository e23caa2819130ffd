// The control socket's file: its directory, a stale file left by a dead beed,
// and binding it with its final mode from the start.
#pragma once

#include <filesystem>

namespace pb::control {

// Creates the socket's directory if missing, 0750 (as systemd's
// RuntimeDirectoryMode makes it: only the socket's group may look for the
// socket). An existing directory is left as it is.
void make_socket_directory(const std::filesystem::path& socket_path);

// Removes a socket file nobody accepts on; throws std::system_error if
// another process still accepts on it ("another beed is already listening
// on PATH") or the path exists and is not a socket.
void clear_stale_socket(const std::filesystem::path& path);

// bind(2)s the AF_UNIX socket `fd` to `path`, the file being created with
// `mode` (e.g. 0660) whatever the process umask, so that it is never more
// open than that, not even between bind() and a chmod(). Throws
// std::system_error naming the path.
void bind_socket_file(int fd, const std::filesystem::path& path, unsigned mode);

}  // namespace pb::control
