// The retry backoff: the bound doubles up to its cap, and the jittered delay
// stays within [bound/2, bound].
#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include <doctest/doctest.h>

#include "async/backoff.hpp"

using namespace std::chrono_literals;
using pb::async::backoff_bound;
using pb::async::backoff_delay;
using pb::async::BackoffPolicy;

TEST_CASE("the backoff bound doubles up to max_backoff") {
  BackoffPolicy policy;
  policy.initial_backoff = 500ms;
  policy.max_backoff = 30s;
  CHECK(backoff_bound(policy, 0) == 500ms);
  CHECK(backoff_bound(policy, 1) == 1000ms);
  CHECK(backoff_bound(policy, 4) == 8000ms);
  CHECK(backoff_bound(policy, 6) == 30s);
  CHECK(backoff_bound(policy, 1000) == 30s);  // no overflow
}

TEST_CASE("the jittered delay stays within [bound/2, bound] and varies") {
  BackoffPolicy policy;
  policy.initial_backoff = 1000ms;
  policy.max_backoff = 4000ms;
  std::minstd_rand random(42);
  for (int retry = 0; retry < 4; ++retry) {
    const auto bound = backoff_bound(policy, retry);
    auto low = bound, high = bound / 2;
    for (int i = 0; i < 500; ++i) {
      const auto delay = backoff_delay(policy, retry, random);
      CHECK(delay >= bound / 2);
      CHECK(delay <= bound);
      low = std::min(low, delay);
      high = std::max(high, delay);
    }
    CHECK(high - low > bound / 4);  // spread, not a constant
  }
}

TEST_CASE("the delay from the thread's own generator stays within [bound/2, bound]") {
  BackoffPolicy policy;
  policy.initial_backoff = 1000ms;
  policy.max_backoff = 4000ms;
  for (int retry = 0; retry < 4; ++retry) {
    const auto bound = backoff_bound(policy, retry);
    for (int i = 0; i < 100; ++i) {
      const auto delay = backoff_delay(policy, retry);
      CHECK(delay >= bound / 2);
      CHECK(delay <= bound);
    }
  }
  // Another thread has a generator of its own (thread_local), usable without locks.
  std::chrono::milliseconds other{-1};
  std::thread([&] { other = backoff_delay(policy, 0); }).join();
  CHECK(other >= 500ms);
  CHECK(other <= 1000ms);
}

TEST_CASE("a zero or negative backoff waits not at all") {
  BackoffPolicy policy;
  policy.initial_backoff = 0ms;
  CHECK(backoff_bound(policy, 3) == 0ms);
  CHECK(backoff_delay(policy, 3) == 0ms);
  policy.initial_backoff = 100ms;
  policy.max_backoff = -5ms;
  CHECK(backoff_bound(policy, 0) == 0ms);
}
