// The admin token: bearer parsing, the verdicts, and a token file's checks.
#include <doctest/doctest.h>

#include <fstream>
#include <stdexcept>

#include "../temp_dir.hpp"
#include "web/admin_token.hpp"

using pb::web::AdminToken;
using Verdict = AdminToken::Verdict;

TEST_CASE("bearer_token takes the Bearer scheme in any case, and nothing else") {
  using pb::web::bearer_token;
  CHECK(bearer_token("Bearer abc") == "abc");
  CHECK(bearer_token("bearer   abc  ") == "abc");
  CHECK(bearer_token("BEARER\tabc") == "abc");
  CHECK(bearer_token("Bearer") == "");
  CHECK(bearer_token("Bearerabc") == "");
  CHECK(bearer_token("Basic abc") == "");
  CHECK(bearer_token("abc") == "");
  CHECK(bearer_token("") == "");
}

TEST_CASE("verdicts: granted, missing, wrong, read-only") {
  const AdminToken token("0123456789abcdef0123");
  CHECK(token.configured());
  CHECK(token.check("Bearer 0123456789abcdef0123") == Verdict::granted);
  CHECK(token.check("") == Verdict::missing);
  CHECK(token.check("Basic 0123456789abcdef0123") == Verdict::missing);
  CHECK(token.check("Bearer 0123456789abcdef012") == Verdict::wrong);    // a prefix
  CHECK(token.check("Bearer 0123456789abcdef01234") == Verdict::wrong);  // longer
  CHECK(token.check("Bearer 0123456789ABCDEF0123") == Verdict::wrong);   // case matters
  const AdminToken none;
  CHECK_FALSE(none.configured());
  CHECK(none.check("Bearer 0123456789abcdef0123") == Verdict::read_only);
  CHECK(none.check("") == Verdict::read_only);
}

TEST_CASE("constant_time_equal") {
  CHECK(pb::web::constant_time_equal("abc", "abc"));
  CHECK_FALSE(pb::web::constant_time_equal("abc", "abd"));
  CHECK_FALSE(pb::web::constant_time_equal("abc", "abcd"));
  CHECK(pb::web::constant_time_equal("", ""));
}

TEST_CASE("a token file: trimmed, refused when short, empty or unreadable, never quoted") {
  pb::test::TempDir dir;
  const auto path = dir.path() / "token";
  const auto write = [&](const std::string& text) { std::ofstream(path) << text; };
  write("  0123456789abcdef0123\n");
  CHECK(AdminToken::from_file(path).check("Bearer 0123456789abcdef0123") == Verdict::granted);
  write("short-secret\n");
  try {
    AdminToken::from_file(path);
    FAIL("a short token was taken");
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    CHECK(what.find("shorter than 16") != std::string::npos);
    CHECK(what.find(path.string()) != std::string::npos);
    CHECK(what.find("short-secret") == std::string::npos);
  }
  write("\n");
  CHECK_THROWS_WITH_AS(AdminToken::from_file(path), doctest::Contains("is empty"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(AdminToken::from_file(dir.path() / "none"), doctest::Contains("cannot read"),
                       std::runtime_error);
}
