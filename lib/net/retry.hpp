// Retrying an HTTP exchange: exponential backoff with full jitter, bounded in
// attempts and in total time, honouring Retry-After.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "async/backoff.hpp"
#include "core/types.hpp"
#include "net/http_session.hpp"

namespace pb::net {

// Attempts and backoff as in async::BackoffPolicy, plus a bound on the total time.
struct RetryOptions : async::BackoffPolicy {
  // No new attempt starts after this long since the first; a Retry-After that
  // would cross it ends the retries instead of waiting.
  std::chrono::milliseconds max_total{120'000};
};

// What the caller makes of a response: accept it (return it), or try again
// (with the reason, for logs and the final error).
struct Verdict {
  bool retry = false;
  std::string reason;
};
using Judge = std::function<Verdict(const Response&)>;

// The default judgement: 429, 500, 502, 503 and 504 are retried; anything else is returned.
Verdict judge_status(const Response& response);

// All attempts failed (or time ran out) on retryable failures. `last` says why.
class RetriesExhausted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Sends `request` until `judge` (default judge_status) accepts a response.
// Transport failures that are retryable() and judged retries back off; a
// Retry-After (seconds or HTTP date) on a retried response replaces the
// backoff when longer. Throws the TransportError of a non-retryable failure at
// once, and RetriesExhausted ("<origin>: gave up after N attempts in T s: <last reason>")
// when the bounds are reached. Each retry is logged at warning without headers.
// The arguments are copied when called (nothing refers to them later); the session
// must outlive the returned awaitable. A cancellation is not retried.
boost::asio::awaitable<Response> send_with_retries(HttpSession& session, const Request& request,
                                                   const RetryOptions& options,
                                                   const Judge& judge = judge_status);

// Parses a Retry-After value (delta-seconds or IMF-fixdate); nullopt if neither.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

// What a retried answer's Retry-After asked for: a connector keeps the last one, so that when
// send_with_retries gives up because the wait is beyond its budget, the run can stop and say
// when the server asked to come back (every other request would be told the same).
struct ComeBack {
  unsigned status = 0;
  std::string header;  // the value as sent, cut to 64 characters
  std::chrono::milliseconds delay{0};
  UnixMillis at = 0;  // wall clock, for the message
};
// nullopt without a Retry-After that parses.
std::optional<ComeBack> come_back_of(const Response& response);

}  // namespace pb::net
