// The web dashboard's files: a fixed list of names read once from a directory at start and
// served from memory. Nothing else is ever served, so no request path reaches the file system
// (no traversal, no symlink surprises, no blocking read on the loop).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "web/http_server.hpp"

namespace pb::web {

// Where the dashboard's files are installed, under the prefix.
inline constexpr std::string_view kWebSubdir = "share/packagebee/web";

// Where beed looks for the dashboard: $PACKAGEBEE_WEB_DIR if set, else PREFIX/share/packagebee/web
// where PREFIX is the parent of the executable's directory (/usr for /usr/sbin/beed).
std::filesystem::path default_web_dir();

class StaticSite {
 public:
  // The URL path and file name of each file served, with its media type.
  struct File {
    std::string_view url;
    std::string_view name;
    std::string_view content_type;
  };
  static const std::vector<File>& files();
  // Files larger than this are refused at load: the dashboard is a few kilobytes.
  static constexpr std::size_t kMaxFileBytes = std::size_t{1} << 20;

  // Reads every file of files() from `dir`; what cannot be read is listed in missing().
  static StaticSite load(const std::filesystem::path& dir);

  // The reply for `url` (a request's path), or nothing when it is not one of files().
  std::optional<Reply> find(std::string_view url) const;
  const std::vector<std::string>& missing() const { return missing_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::vector<std::pair<std::string, Reply>> replies_;  // by url
  std::vector<std::string> missing_;                    // "app.js: no such file"
};

}  // namespace pb::web
