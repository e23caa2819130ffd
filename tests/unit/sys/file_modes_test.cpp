#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "../temp_dir.hpp"
#include "sys/file_modes.hpp"

namespace {

mode_t mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Sets the umask for one scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

}  // namespace

TEST_CASE("set_daemon_umask sets 027 and returns the umask it replaces") {
  const ScopedUmask scope(0);
  CHECK(pb::sys::set_daemon_umask() == 0);
  CHECK(::umask(0) == 027);
}

TEST_CASE("create_directories makes every new directory 0750, whatever the umask") {
  pb::test::TempDir dir;
  for (const mode_t mask : {mode_t{0}, mode_t{077}}) {
    const ScopedUmask scope(mask);
    const auto top = dir.path() / ("u" + std::to_string(mask));
    const auto leaf = top / "b" / "c";
    CHECK(pb::sys::create_directories(leaf));
    CHECK(mode_of(top) == 0750);
    CHECK(mode_of(top / "b") == 0750);
    CHECK(mode_of(leaf) == 0750);
    CHECK_FALSE(pb::sys::create_directories(leaf));
  }
}

TEST_CASE("create_directories leaves an existing directory's mode alone") {
  pb::test::TempDir dir;
  const auto existing = dir.path() / "shared";
  std::filesystem::create_directory(existing);
  std::filesystem::permissions(existing, std::filesystem::perms(0755));
  CHECK(pb::sys::create_directories(existing / "mine"));
  CHECK(mode_of(existing) == 0755);
  CHECK(mode_of(existing / "mine") == 0750);
}

TEST_CASE("create_directories throws when it cannot create") {
  pb::test::TempDir dir;
  const auto file = dir.path() / "file";
  { std::ofstream(file) << "x"; }
  CHECK_THROWS_AS(pb::sys::create_directories(file / "sub"), std::filesystem::filesystem_error);
}
