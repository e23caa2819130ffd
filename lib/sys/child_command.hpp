// What a hook's child process runs with: its whole environment, and the
// program resolved in that environment's PATH (not beed's).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pb::sys::detail {

using Vars = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The defaults (PATH first, then LANG), then `extra` replacing or adding.
// Returns the error text for a name or value the child would misread.
std::optional<std::string> child_environment(const Vars& extra, Vars& vars);

// The path to run for argv[0] `name`, searching `search` as execvp would;
// empty, with the error text in `error`, when there is none.
std::string resolve(const std::string& name, const std::string& search, std::string& error);

}  // namespace pb::sys::detail
