// The dashboard's files: only the fixed list is served, whatever else the directory holds or
// the path asks for; what is missing is reported.
#include <doctest/doctest.h>

#include <fstream>

#include "../temp_dir.hpp"
#include "web/static_site.hpp"

using pb::web::StaticSite;

namespace {

void write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("the fixed files, with their media types, and nothing else") {
  pb::test::TempDir dir;
  for (const auto& file : StaticSite::files())
    write(dir.path() / file.name, "content of " + std::string(file.name));
  write(dir.path() / "secret.txt", "secret");
  const auto site = StaticSite::load(dir.path());
  CHECK(site.missing().empty());
  const auto index = site.find("/");
  REQUIRE(index);
  CHECK(index->body == "content of index.html");
  CHECK(index->content_type == "text/html; charset=utf-8");
  CHECK(index->cache_control == "no-cache");
  CHECK(site.find("/app.js")->content_type == "text/javascript; charset=utf-8");
  CHECK(site.find("/style.css")->content_type == "text/css; charset=utf-8");
  for (const auto* path : {"/secret.txt", "/index.html", "/../secret.txt", "/./app.js", "//app.js",
                           "/app.js/", "/%2e%2e/secret.txt", "app.js", "", "/APP.JS"})
    CHECK_MESSAGE(!site.find(path), path);
}

TEST_CASE("missing, oversized and non-regular files are reported, the rest served") {
  pb::test::TempDir dir;
  write(dir.path() / "index.html", "<html>");
  std::filesystem::create_directory(dir.path() / "app.js");
  write(dir.path() / "style.css", std::string(StaticSite::kMaxFileBytes + 1, 'x'));
  const auto site = StaticSite::load(dir.path());
  CHECK(site.find("/"));
  CHECK_FALSE(site.find("/app.js"));
  CHECK_FALSE(site.find("/style.css"));
  REQUIRE(site.missing().size() == 3);  // app.js, style.css, favicon.svg
  CHECK(site.missing()[0].starts_with("app.js: "));
  CHECK(site.missing()[1].find("larger than 1 MiB") != std::string::npos);
}

TEST_CASE("PREFIX/share/packagebee/web beside the executable, or PACKAGEBEE_WEB_DIR") {
  ::unsetenv("PACKAGEBEE_WEB_DIR");
  const auto exe = std::filesystem::read_symlink("/proc/self/exe");
  CHECK(pb::web::default_web_dir() == exe.parent_path().parent_path() / "share/packagebee/web");
  ::setenv("PACKAGEBEE_WEB_DIR", "/tmp/web", 1);
  CHECK(pb::web::default_web_dir() == "/tmp/web");
  ::unsetenv("PACKAGEBEE_WEB_DIR");
}
