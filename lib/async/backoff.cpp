#include "async/backoff.hpp"

#include <algorithm>

namespace pb::async {

std::chrono::milliseconds backoff_bound(const BackoffPolicy& policy, int retry) {
  const auto cap = std::max(policy.max_backoff, std::chrono::milliseconds(0));
  auto bound = std::clamp(policy.initial_backoff, std::chrono::milliseconds(0), cap);
  // Doubling stops at the cap, so no shift can overflow.
  for (int i = 0; i < retry && bound < cap; ++i) bound = std::min(cap, bound * 2);
  return bound;
}

std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, int retry,
                                        std::minstd_rand& random) {
  const auto bound = backoff_bound(policy, retry).count();
  std::uniform_int_distribution<std::chrono::milliseconds::rep> pick(bound / 2, bound);
  return std::chrono::milliseconds(pick(random));
}

std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, int retry) {
  thread_local std::minstd_rand random{std::random_device{}()};
  return backoff_delay(policy, retry, random);
}

}  // namespace pb::async
