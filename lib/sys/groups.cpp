#include "sys/groups.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <vector>

namespace pb::sys {

namespace {

// The *_r buffers grow on ERANGE: a group with many members does not fit the
// sysconf hint, and NSS modules may not give one at all.
constexpr std::size_t kInitialBuffer = 1024;
constexpr std::size_t kMaxBuffer = std::size_t{1} << 24;

std::optional<gid_t> parse_gid(const std::string& text) {
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  gid_t gid = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), gid);
  // (gid_t)-1 means "no change" to chown(2); it is never a real group.
  if (ec != std::errc{} || ptr != text.data() + text.size() || gid == static_cast<gid_t>(-1))
    return std::nullopt;
  return gid;
}

}  // namespace

std::optional<gid_t> lookup_group(const std::string& name) {
  std::vector<char> buf(kInitialBuffer);
  group entry{};
  group* found = nullptr;
  int r;
  while ((r = getgrnam_r(name.c_str(), &entry, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < kMaxBuffer)
    buf.resize(buf.size() * 2);
  if (r == 0 && found != nullptr) return found->gr_gid;
  return parse_gid(name);
}

bool user_in_group(uid_t uid, gid_t gid) {
  std::vector<char> buf(kInitialBuffer);
  passwd entry{};
  passwd* found = nullptr;
  int r;
  while ((r = getpwuid_r(uid, &entry, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < kMaxBuffer)
    buf.resize(buf.size() * 2);
  if (r != 0 || found == nullptr) return false;
  if (found->pw_gid == gid) return true;

  std::vector<gid_t> groups(32);
  for (;;) {
    int count = static_cast<int>(groups.size());
    if (getgrouplist(found->pw_name, found->pw_gid, groups.data(), &count) >= 0) {
      groups.resize(static_cast<std::size_t>(count));
      break;
    }
    // -1 with count set to the number needed; guard against a count that
    // does not grow so the loop cannot spin.
    const auto needed = static_cast<std::size_t>(count);
    if (needed <= groups.size()) return false;
    groups.resize(needed);
  }
  return std::find(groups.begin(), groups.end(), gid) != groups.end();
}

}  // namespace pb::sys
