// How long to wait before the next attempt: exponential, capped, jittered so
// that many clients failing together do not retry together.
#pragma once

#include <chrono>
#include <random>

#include "net/retry.hpp"

namespace pb::net::detail {

// min(max_backoff, initial_backoff * 2^retry) for the retry-th retry (0 for the first).
std::chrono::milliseconds backoff_bound(const RetryOptions& options, int retry);

// Uniform in [bound/2, bound]: never less than half the bound, so that a lucky
// draw does not hammer a server that asked us to slow down.
std::chrono::milliseconds backoff_delay(const RetryOptions& options, int retry,
                                        std::minstd_rand& random);

}  // namespace pb::net::detail
