#include "sys/file_modes.hpp"

#include <sys/stat.h>

#include <vector>

namespace pb::sys {

mode_t set_daemon_umask() noexcept {
  return ::umask(kDaemonUmask);
}

bool create_directories(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  // The missing ones, outermost last, before create_directories() makes them.
  std::vector<fs::path> missing;
  for (fs::path p = dir; !p.empty() && !fs::exists(fs::symlink_status(p)); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  if (!fs::create_directories(dir)) return false;
  for (const auto& p : missing)
    fs::permissions(p, fs::perms(kDirectoryMode), fs::perm_options::replace);
  return true;
}

}  // namespace pb::sys
