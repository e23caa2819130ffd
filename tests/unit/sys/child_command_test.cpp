#include <sys/stat.h>

#include <fstream>
#include <string>

#include <doctest/doctest.h>

#include "../temp_dir.hpp"
#include "sys/child_command.hpp"

using pb::sys::detail::child_environment;
using pb::sys::detail::kDefaultPath;
using pb::sys::detail::resolve;
using pb::sys::detail::Vars;
using pb::test::TempDir;

namespace {

std::string make_file(const TempDir& dir, const std::string& name, mode_t mode) {
  const std::string path = (dir / name).string();
  std::ofstream(path) << "#!/bin/sh\n";
  ::chmod(path.c_str(), mode);
  return path;
}

}  // namespace

TEST_CASE("child_environment puts PATH first, then LANG, then the extra variables") {
  Vars vars;
  CHECK_FALSE(child_environment({{"LANG", "de_DE.UTF-8"}, {"SKU", "A-1"}}, vars));
  const Vars expected = {
      {"PATH", std::string(kDefaultPath)}, {"LANG", "de_DE.UTF-8"}, {"SKU", "A-1"}};
  CHECK(vars == expected);
}

TEST_CASE("child_environment refuses names with '=' or NUL, empty names and NUL in values") {
  Vars vars;
  CHECK(child_environment({{"A=B", "x"}}, vars) == "invalid environment variable \"A=B\"");
  CHECK(child_environment({{"", "x"}}, vars));
  CHECK(child_environment({{std::string("A\0B", 3), "x"}}, vars));
  CHECK(child_environment({{"A", std::string("x\0y", 3)}}, vars));
}

TEST_CASE("resolve takes a name with a '/' as it is") {
  std::string error;
  CHECK(resolve("./nowhere/hook", "/bin", error) == "./nowhere/hook");
  CHECK(error.empty());
}

TEST_CASE("resolve searches the given PATH, skipping empty entries") {
  TempDir first;
  TempDir second;
  const std::string hook = make_file(second, "hook", 0755);
  std::string error;
  const std::string search = "::" + first.path().string() + ":" + second.path().string();
  CHECK(resolve("hook", search, error) == hook);
  CHECK(error.empty());
}

TEST_CASE("resolve prefers a runnable match and otherwise names the one it may not run") {
  TempDir denied_dir;
  TempDir ok_dir;
  const std::string denied = make_file(denied_dir, "hook", 0644);
  std::string error;
  CHECK(resolve("hook", denied_dir.path().string(), error).empty());
  CHECK(error == denied + ": Permission denied");

  const std::string ok = make_file(ok_dir, "hook", 0755);
  error.clear();
  CHECK(resolve("hook", denied_dir.path().string() + ":" + ok_dir.path().string(), error) == ok);
}

TEST_CASE("resolve names the PATH it searched when nothing matches") {
  TempDir dir;
  std::string error;
  CHECK(resolve("no-such-hook", dir.path().string(), error).empty());
  CHECK(error ==
        "no-such-hook: No such file or directory (searched PATH " + dir.path().string() + ")");
}
