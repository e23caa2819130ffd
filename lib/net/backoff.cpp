#include "net/backoff.hpp"

#include <algorithm>

namespace pb::net::detail {

std::chrono::milliseconds backoff_bound(const RetryOptions& options, int retry) {
  const auto cap = std::max(options.max_backoff, std::chrono::milliseconds(0));
  auto bound = std::clamp(options.initial_backoff, std::chrono::milliseconds(0), cap);
  // Doubling stops at the cap, so no shift can overflow.
  for (int i = 0; i < retry && bound < cap; ++i) bound = std::min(cap, bound * 2);
  return bound;
}

std::chrono::milliseconds backoff_delay(const RetryOptions& options, int retry,
                                        std::minstd_rand& random) {
  const auto bound = backoff_bound(options, retry).count();
  std::uniform_int_distribution<std::chrono::milliseconds::rep> pick(bound / 2, bound);
  return std::chrono::milliseconds(pick(random));
}

}  // namespace pb::net::detail
