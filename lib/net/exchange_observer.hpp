// A narrow window on a session's exchanges for monitoring: each attempt's outcome and duration.
// observe() wraps a session so that connectors need not change how they send.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

#include "net/http_session.hpp"

namespace pb::net {

// What became of one send(). Cancelled sends are not reported.
enum class ExchangeOutcome {
  ok,            // 1xx-3xx, and 2xx the store did not call throttled
  throttled,     // 429, or what the connector's judge calls throttled (Shopify's THROTTLED)
  client_error,  // other 4xx
  server_error,  // 5xx
  failed,        // no response: a TransportError (timeout, refused, TLS, ...)
};

std::string_view to_string(ExchangeOutcome outcome);

class ExchangeObserver {
 public:
  virtual ~ExchangeObserver() = default;
  // Called on the session's executor after each exchange.
  virtual void exchanged(ExchangeOutcome outcome, std::chrono::duration<double> elapsed) = 0;
};

// Whether a response that is not a 429 still says "slow down" (a GraphQL THROTTLED error).
using ThrottleJudge = std::function<bool(const Response&)>;

// `session` with each exchange reported to `observer`; `session` itself when observer is null.
std::shared_ptr<HttpSession> observe(std::shared_ptr<HttpSession> session,
                                     std::shared_ptr<ExchangeObserver> observer,
                                     ThrottleJudge throttled = {});

}  // namespace pb::net
