#include <doctest/doctest.h>

#include "core/types.hpp"

using namespace pb;

TEST_CASE("enumerations round-trip through their names") {
  for (auto k : {SyncKind::full, SyncKind::smart}) CHECK(parse_sync_kind(to_string(k)) == k);
  for (auto r : {RunResult::running, RunResult::ok, RunResult::partial, RunResult::failed})
    CHECK(parse_run_result(to_string(r)) == r);
  CHECK_FALSE(parse_sync_kind("Full").has_value());
  CHECK_FALSE(parse_missing_skus("").has_value());
}

TEST_CASE("connection names are restricted to a safe alphabet") {
  CHECK(is_valid_connection_name("acme-shop"));
  CHECK(is_valid_connection_name("a.b_c-9"));
  CHECK_FALSE(is_valid_connection_name(""));
  CHECK_FALSE(is_valid_connection_name("-lead"));
  CHECK_FALSE(is_valid_connection_name("has space"));
  CHECK_FALSE(is_valid_connection_name("slash/no"));
  CHECK_FALSE(is_valid_connection_name(std::string(65, 'a')));
}

TEST_CASE("times format as UTC ISO 8601") {
  CHECK(format_time(0) == "-");
  CHECK(format_time(1583157600000) == "2020-03-02T14:00:00Z");
}
