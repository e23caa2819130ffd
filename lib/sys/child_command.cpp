#include "sys/child_command.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "sys/child_fd.hpp"

namespace pb::sys::detail {

namespace {

bool is_executable_file(const std::string& path, int& err) {
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0 || !S_ISREG(st.st_mode)) {
    err = ENOENT;
    return false;
  }
  if (::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) < 0) {
    err = EACCES;
    return false;
  }
  return true;
}

}  // namespace

// Names are checked because a '=' or NUL would silently turn into a different
// variable in the child.
std::optional<std::string> child_environment(const Vars& extra, Vars& vars) {
  vars = {{"PATH", std::string(kDefaultPath)}, {"LANG", "C.UTF-8"}};
  for (const auto& variable : extra) {
    // Named references, not a structured binding: clang 14 (the fuzz build) cannot capture
    // one in the lambda below.
    const std::string& name = variable.first;
    const std::string& value = variable.second;
    if (name.empty() || name.find_first_of(std::string_view("=\0", 2)) != std::string::npos ||
        value.find('\0') != std::string::npos) {
      return "invalid environment variable \"" + name + "\"";
    }
    const auto it =
        std::find_if(vars.begin(), vars.end(), [&](const auto& v) { return v.first == name; });
    if (it != vars.end()) {
      it->second = value;
    } else {
      vars.emplace_back(name, value);
    }
  }
  return std::nullopt;
}

// execvp's search, done here because posix_spawnp would search beed's own
// PATH, not the child's. Empty entries (the current directory, to execvp)
// are skipped: a hook must not depend on where beed happened to start.
std::string resolve(const std::string& name, const std::string& search, std::string& error) {
  if (name.find('/') != std::string::npos) return name;
  std::string_view path = search;
  std::string denied;  // as execvp: a match we may not run beats no match
  while (!path.empty()) {
    const auto colon = path.find(':');
    const std::string_view dir = path.substr(0, colon);
    path = colon == std::string_view::npos ? std::string_view() : path.substr(colon + 1);
    if (dir.empty() || name.empty()) continue;
    std::string candidate = std::string(dir) + "/" + name;
    int err = 0;
    if (is_executable_file(candidate, err)) return candidate;
    if (err == EACCES && denied.empty()) denied = std::move(candidate);
  }
  if (denied.empty()) {
    error = name + ": " + errno_text(ENOENT) + " (searched PATH " + search + ")";
  } else {
    error = denied + ": " + errno_text(EACCES);
  }
  return {};
}

}  // namespace pb::sys::detail
