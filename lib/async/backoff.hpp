// How long to wait before the next attempt: exponential, capped, jittered so
// that many clients failing together do not retry together.
#pragma once

#include <chrono>
#include <random>

namespace pb::async {

// How often and how patiently to retry. Callers with more bounds (net::RetryOptions
// adds a total time) derive from it.
struct BackoffPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
};

// min(max_backoff, initial_backoff * 2^retry) for the retry-th retry (0 for the first).
std::chrono::milliseconds backoff_bound(const BackoffPolicy& policy, int retry);

// Uniform in [bound/2, bound]: never less than half the bound, so that a lucky
// draw does not hammer a server that asked us to slow down.
std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, int retry,
                                        std::minstd_rand& random);

// The same, drawn from a generator of this thread's own seeded from std::random_device,
// for callers that need no reproducible draws.
std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, int retry);

}  // namespace pb::async
