#include <doctest/doctest.h>

#include <limits>

#include "sync/rules.hpp"

using namespace pb;
using namespace pb::sync;

TEST_CASE("the buffer is taken off and the result never goes below zero") {
  CHECK(wanted_quantity(10, Rules{0, MissingSkus::keep}) == 10);
  CHECK(wanted_quantity(10, Rules{3, MissingSkus::keep}) == 7);
  CHECK(wanted_quantity(3, Rules{3, MissingSkus::keep}) == 0);
  CHECK(wanted_quantity(2, Rules{3, MissingSkus::keep}) == 0);
  CHECK(wanted_quantity(-5, Rules{0, MissingSkus::keep}) == 0);
  CHECK(wanted_quantity(std::numeric_limits<Quantity>::min(), Rules{5, MissingSkus::keep}) == 0);
}
