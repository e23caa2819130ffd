// BigCommerce's request quota (per store, shared by every app, refilled each window): what the
// X-Rate-Limit-* headers of an answer say, and the wait they ask for before the next request.
// Plain arithmetic on time points; the waiting itself is the client's (a steady_timer).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "net/http_session.hpp"

namespace pb::connectors::bigcommerce {

// The quota headers of one answer; each is absent when the answer did not carry it (a 429
// without them is the platform shedding load, not our quota).
struct RateStatus {
  std::optional<std::int64_t> requests_left;          // X-Rate-Limit-Requests-Left
  std::optional<std::int64_t> requests_quota;         // X-Rate-Limit-Requests-Quota
  std::optional<std::chrono::milliseconds> reset_in;  // X-Rate-Limit-Time-Reset-Ms
  std::optional<std::chrono::milliseconds> window;    // X-Rate-Limit-Time-Window-Ms
};

// Reads the headers (names case-insensitive, as BigCommerce documents). A value that is not a
// plain non-negative decimal is taken as absent.
RateStatus read_rate_status(const net::Response& response);

class RatePacer {
 public:
  using Clock = std::chrono::steady_clock;

  // Records an answer's quota headers, received at `at`. An answer saying nothing of the
  // quota changes nothing.
  void observe(const RateStatus& status, Clock::time_point at);

  // How long to wait before the next request: until the window resets when the last answer
  // said no request is left in it; zero otherwise.
  std::chrono::milliseconds delay_before(Clock::time_point now) const;

 private:
  std::optional<Clock::time_point> blocked_until_;
};

}  // namespace pb::connectors::bigcommerce
