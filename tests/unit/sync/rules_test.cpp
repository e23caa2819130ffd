#include <doctest/doctest.h>

#include <limits>

#include "sync/rules.hpp"

using namespace pb;
using namespace pb::sync;

namespace {
Rules units(Quantity buffer) {
  return Rules{.buffer = buffer};
}
Rules percent(int p) {
  return Rules{.buffer_percent = p};
}
}  // namespace

TEST_CASE("the buffer is taken off and the result never goes below zero") {
  CHECK(wanted_quantity(10, units(0)) == 10);
  CHECK(wanted_quantity(10, units(3)) == 7);
  CHECK(wanted_quantity(3, units(3)) == 0);
  CHECK(wanted_quantity(2, units(3)) == 0);
  CHECK(wanted_quantity(-5, units(0)) == 0);
  CHECK(wanted_quantity(std::numeric_limits<Quantity>::min(), units(5)) == 0);
}

TEST_CASE("a percentage buffer holds back its share rounded up") {
  CHECK(wanted_quantity(100, percent(10)) == 90);
  CHECK(wanted_quantity(25, percent(10)) == 22);  // 2.5 held back -> 3
  CHECK(wanted_quantity(1, percent(10)) == 0);    // 0.1 -> 1
  CHECK(wanted_quantity(0, percent(10)) == 0);
  CHECK(wanted_quantity(-7, percent(10)) == 0);
  CHECK(wanted_quantity(7, percent(0)) == 7);
  CHECK(wanted_quantity(7, percent(100)) == 0);
  CHECK(wanted_quantity(199, percent(50)) == 99);  // 99.5 -> 100 held back
  // No overflow on the largest quantity.
  const Quantity big = std::numeric_limits<Quantity>::max();
  CHECK(wanted_quantity(big, percent(1)) == big - (big / 100 + 1));
}

TEST_CASE("below the minimum distributable after the buffer 0 is pushed") {
  const Rules rules{.buffer = 2, .minimum_distributable = 5};
  CHECK(wanted_quantity(7, rules) == 5);  // 7 - 2 = 5: not below the floor
  CHECK(wanted_quantity(6, rules) == 0);  // 4 < 5
  CHECK(wanted_quantity(100, rules) == 98);
  const Rules share{.buffer_percent = 20, .minimum_distributable = 3};
  CHECK(wanted_quantity(4, share) == 3);  // 0.8 -> 1 held back, 3 left
  CHECK(wanted_quantity(3, share) == 0);  // 1 held back, 2 left < 3
}
