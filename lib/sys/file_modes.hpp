// The modes of what beed creates: directories 0750 and files 0640 (its own
// user and group, nobody else), whatever umask it was started with.
#pragma once

#include <sys/types.h>

#include <filesystem>

namespace pb::sys {

inline constexpr mode_t kDirectoryMode = 0750;
inline constexpr mode_t kFileMode = 0640;
// 0777 & ~027 == 0750 and 0666 & ~027 == 0640: what a library or a helper
// creates without a mode of its own ends up no wider than beed's own files.
inline constexpr mode_t kDaemonUmask = 027;

// Sets the process umask to kDaemonUmask; returns the one it replaces.
mode_t set_daemon_umask() noexcept;

// create_directories(), each directory it creates kDirectoryMode exactly (a
// stricter umask would otherwise lock the group out); existing ones are left
// alone. Returns whether it created any; throws std::filesystem_error.
bool create_directories(const std::filesystem::path& dir);

}  // namespace pb::sys
