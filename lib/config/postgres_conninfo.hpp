// Checks a `type: postgres` warehouse's libpq connection string when the configuration is
// loaded, so a typo or a password written into it is refused by --check-config and reload
// rather than found at the first run (or in a log line).
#pragma once

#include <optional>
#include <string>

namespace pb::config {

// What is wrong with `conninfo` (a libpq key=value string or postgresql:// URI), or nothing.
// Uses libpq's own parser, which knows every keyword; it does not connect. A password (the
// `password` or `sslpassword` keyword, or user:password@ in a URI) is refused: the string is
// shown in logs and `beectl connections`, so the password belongs in password_file.
std::optional<std::string> conninfo_problem(const std::string& conninfo);

}  // namespace pb::config
