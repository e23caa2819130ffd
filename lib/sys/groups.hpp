// Group lookups for the control socket's access rules: which gid a configured
// group name means, and whether a peer's uid belongs to it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace pb::sys {

// The gid of group `name`, or `name` read as a decimal gid when no group has
// that name (as chown(1) does). Nothing when neither applies.
std::optional<gid_t> lookup_group(const std::string& name);

// Whether `uid` has `gid` as its primary group or among its supplementary
// groups in the user database. Unknown uids belong to no group.
bool user_in_group(uid_t uid, gid_t gid);

}  // namespace pb::sys
