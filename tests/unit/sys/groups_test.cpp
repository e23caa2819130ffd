#include <grp.h>
#include <pwd.h>

#include <optional>
#include <utility>

#include <doctest/doctest.h>

#include "sys/groups.hpp"

using pb::sys::lookup_group;
using pb::sys::user_in_group;

namespace {

// A (uid, gid) where the user is a listed member of a group that is not its
// primary one, from this machine's group database (e.g. postgres in
// ssl-cert on Debian), if there is such a pair.
std::optional<std::pair<uid_t, gid_t>> find_supplementary_member() {
  std::optional<std::pair<uid_t, gid_t>> found;
  setgrent();
  while (const group* g = getgrent()) {
    for (char** member = g->gr_mem; member && *member && !found; ++member) {
      const passwd* pw = getpwnam(*member);
      if (pw && pw->pw_gid != g->gr_gid) found = std::pair{pw->pw_uid, g->gr_gid};
    }
    if (found) break;
  }
  endgrent();
  return found;
}

}  // namespace

TEST_CASE("lookup_group resolves names and numeric gids") {
  CHECK(lookup_group("root") == gid_t{0});
  CHECK(lookup_group("0") == gid_t{0});
  CHECK(lookup_group("12345") == gid_t{12345});
  CHECK_FALSE(lookup_group("pb-no-such-group-xyz").has_value());
  CHECK_FALSE(lookup_group("").has_value());
  CHECK_FALSE(lookup_group("12x").has_value());
  CHECK_FALSE(lookup_group("-1").has_value());
  CHECK_FALSE(lookup_group("4294967295").has_value());
  CHECK_FALSE(lookup_group("99999999999").has_value());
}

TEST_CASE("user_in_group checks primary and supplementary groups") {
  CHECK(user_in_group(0, 0));
  // No user database entry: no group memberships to speak of.
  CHECK_FALSE(user_in_group(4'000'000'000U, 0));
  if (const auto nogroup = lookup_group("nogroup")) CHECK_FALSE(user_in_group(0, *nogroup));
  if (const auto member = find_supplementary_member())
    CHECK(user_in_group(member->first, member->second));
  else
    MESSAGE("no supplementary group member in this group database; case skipped");
}
