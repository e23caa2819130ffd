#include "web/static_site.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace pb::web {

std::filesystem::path default_web_dir() {
  if (const char* dir = std::getenv("PACKAGEBEE_WEB_DIR"); dir != nullptr && *dir != '\0')
    return dir;
  // Beside the executable's prefix, as the install rules put it: /usr/sbin/beed finds
  // /usr/share/packagebee/web, /usr/local/sbin/beed /usr/local/share/..., and a build tree's
  // daemon/beed the copy in the build tree's share/ (lib/web/CMakeLists.txt).
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec || !exe.has_parent_path()) return "/usr/share/packagebee/web";
  return exe.parent_path().parent_path() / kWebSubdir;
}

const std::vector<StaticSite::File>& StaticSite::files() {
  static const std::vector<File> kFiles{
      {"/", "index.html", "text/html; charset=utf-8"},
      {"/app.js", "app.js", "text/javascript; charset=utf-8"},
      {"/style.css", "style.css", "text/css; charset=utf-8"},
      {"/favicon.svg", "favicon.svg", "image/svg+xml"},
  };
  return kFiles;
}

namespace {

// The file's bytes, or a reason it cannot be served.
std::optional<std::string> read_file(const std::filesystem::path& path, std::string& problem) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    problem = ec ? ec.message() : "not a regular file (or missing)";
    return std::nullopt;
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > StaticSite::kMaxFileBytes) {
    problem = ec ? ec.message() : "larger than 1 MiB";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in) {
    problem = "cannot be read";
    return std::nullopt;
  }
  return std::move(bytes).str();
}

}  // namespace

StaticSite StaticSite::load(const std::filesystem::path& dir) {
  StaticSite site;
  site.dir_ = dir;
  for (const auto& file : files()) {
    std::string problem;
    auto body = read_file(dir / file.name, problem);
    if (!body) {
      site.missing_.push_back(std::string(file.name) + ": " + problem);
      continue;
    }
    // Revalidated on each load, so that an upgraded beed's page is never mixed with an old script.
    Reply reply{200, std::string(file.content_type), std::move(*body), "no-cache"};
    site.replies_.emplace_back(std::string(file.url), std::move(reply));
  }
  return site;
}

std::optional<Reply> StaticSite::find(std::string_view url) const {
  for (const auto& [served, reply] : replies_)
    if (served == url) return reply;
  return std::nullopt;
}

}  // namespace pb::web
