// Reading a credential from a file named in the configuration. Read at each
// run, so a rotated token needs no reload; never logged, never in messages.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace pb::connectors {

// Returns the file's content without trailing white space. A path written as
// "$CREDENTIALS_DIRECTORY/NAME" is read from that environment variable's
// directory (systemd LoadCredential=). Throws std::runtime_error naming `what`
// and the file (never its content) when it cannot be read, is empty, is larger
// than 64 KiB or holds a line break inside the value.
std::string read_secret_file(const std::filesystem::path& path, std::string_view what);

}  // namespace pb::connectors
