#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <doctest/doctest.h>

#include "../temp_dir.hpp"
#include "sys/instance_lock.hpp"

using pb::sys::InstanceLock;
using pb::sys::InstanceLockHeld;

TEST_CASE("InstanceLock excludes a second holder and releases on destruction") {
  pb::test::TempDir dir;
  const std::string expected =
      "another beed (pid " + std::to_string(getpid()) + ") is already using " + dir.path().string();
  {
    InstanceLock first(dir.path());
    CHECK(first.path() == dir / "beed.lock");

    std::ifstream in(first.path());
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(content == std::to_string(getpid()) + "\n");

    struct stat st {};
    REQUIRE(stat(first.path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0027) == 0);  // 0640, less whatever the umask takes

    // flock belongs to the open file description: a second open in this
    // same process conflicts just as another process would.
    try {
      InstanceLock second(dir.path());
      FAIL("second lock succeeded");
    } catch (const InstanceLockHeld& e) {
      CHECK(std::string(e.what()) == expected);
      CHECK(e.holder() == getpid());
    }
    CHECK_THROWS_AS(InstanceLock(dir.path()), std::runtime_error);
  }
  InstanceLock again(dir.path());
  CHECK(std::filesystem::exists(again.path()));
}

TEST_CASE("InstanceLock without a pid in the file still names the directory") {
  pb::test::TempDir dir;
  InstanceLock first(dir.path());
  std::filesystem::resize_file(first.path(), 0);
  try {
    InstanceLock second(dir.path());
    FAIL("second lock succeeded");
  } catch (const InstanceLockHeld& e) {
    CHECK(std::string(e.what()) == "another beed is already using " + dir.path().string());
    CHECK_FALSE(e.holder().has_value());
  }
}

TEST_CASE("InstanceLock on a missing directory is a system_error") {
  pb::test::TempDir dir;
  CHECK_THROWS_AS(InstanceLock(dir / "missing"), std::system_error);
}
