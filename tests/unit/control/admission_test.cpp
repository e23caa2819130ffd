#include <doctest/doctest.h>

#include "control/admission.hpp"

using pb::control::Admission;
using pb::control::AdmissionLimits;

namespace {

Admission make(std::size_t max_clients, std::size_t per_uid, std::size_t reserved) {
  return Admission(AdmissionLimits{max_clients, per_uid, reserved, {0, 100}});
}

}  // namespace

TEST_CASE("one reader uid is capped while another reader and root still get in") {
  Admission a = make(8, 3, 2);
  for (int i = 0; i < 3; ++i) CHECK_FALSE(a.admit(1000).has_value());
  CHECK(a.admit(1000) == "too many connections from uid 1000 (limit 3)");
  CHECK(a.active(1000) == 3);
  CHECK_FALSE(a.admit(1001).has_value());
  CHECK_FALSE(a.admit(0).has_value());
  CHECK(a.active() == 5);
  a.release(1000);
  CHECK_FALSE(a.admit(1000).has_value());
}

TEST_CASE("readers fill max_clients and privileged uids then have the reserve but no more") {
  Admission a = make(4, 2, 2);
  for (uid_t uid : {1000u, 1000u, 1001u, 1001u}) CHECK_FALSE(a.admit(uid).has_value());
  CHECK(a.admit(1002) == "too many clients");
  CHECK_FALSE(a.admit(0).has_value());
  CHECK_FALSE(a.admit(100).has_value());  // beed's own user
  CHECK(a.admit(0) == "too many clients");
  CHECK(a.active() == 6);
  a.release(0);
  CHECK(a.admit(1002) == "too many clients");  // a reserved slot is not a reader's
  CHECK_FALSE(a.admit(0).has_value());
}

TEST_CASE("privileged uids have no per-uid cap") {
  Admission a = make(4, 1, 0);
  for (int i = 0; i < 4; ++i) CHECK_FALSE(a.admit(0).has_value());
  CHECK(a.admit(0) == "too many clients");
  CHECK(a.privileged(0));
  CHECK_FALSE(a.privileged(1000));
}

TEST_CASE("releasing a uid that holds nothing changes nothing") {
  Admission a = make(1, 1, 0);
  a.release(1000);
  CHECK(a.active() == 0);
  CHECK_FALSE(a.admit(1000).has_value());
  CHECK(a.admit(1001) == "too many clients");
}
