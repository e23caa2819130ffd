// One GraphQL Admin API exchange at a time, with everything a call needs
// besides its document: the access token header, pacing against the cost
// bucket, retries of transport failures and unreadable answers, waiting out
// THROTTLED answers, and turning failures no retry mends into StoreError.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "connectors/store/shopify/shopify_graphql.hpp"
#include "connectors/store/shopify/shopify_pacer.hpp"
#include "connectors/store/store.hpp"
#include "net/http_session.hpp"
#include "net/retry.hpp"

namespace pb::connectors::shopify {

// Shopify refused the access token (HTTP 401/403): Retry::no. Its own type so that
// prepare() can leave the message on the SKUs of the first push, as a refusal during a
// push does (and as the WooCommerce connector does).
class TokenRefused : public StoreError {
 public:
  explicit TokenRefused(const std::string& message) : StoreError(message, Retry::no) {}
};

// What the calls so far cost; for logs and tests.
struct CallStats {
  std::size_t requests = 0;                    // answers read (retries inside net:: not counted)
  std::size_t throttled = 0;                   // THROTTLED answers
  double points = 0;                           // sum of actualQueryCost
  std::chrono::milliseconds paced{0};          // waited before calls, by the pacer
  std::chrono::milliseconds throttle_wait{0};  // waited after THROTTLED answers
};

class GraphqlClient {
 public:
  // A call gives up after this long spent waiting out THROTTLED answers, or
  // this many of them (the bucket is per app and shop: another client with the
  // same app's token is draining it): Retry::no. Each wait is the deficit, so
  // the time bound is the one that normally ends it.
  static constexpr int kMaxThrottled = 100;
  static constexpr std::chrono::milliseconds kMaxThrottleWait{120'000};

  // `target`: the path (and query) of graphql.json on the session's origin;
  // `token_file` only names the file in messages.
  GraphqlClient(std::shared_ptr<net::HttpSession> session, std::string target,
                std::filesystem::path token_file, net::RetryOptions retry);

  void set_access_token(std::string token) { token_ = std::move(token); }
  bool has_access_token() const { return !token_.empty(); }

  // Sends `body` (request_body(...)) and returns the answer, with data. Throws
  // StoreError(Retry::no) when retries ran out, the token is refused (401/403),
  // the answer is another HTTP error, or GraphQL `errors` came without data
  // (a validation error, MAX_COST_EXCEEDED...): the first error's message.
  boost::asio::awaitable<Reply> call(CallKind kind, std::string body);

  const CallStats& stats() const { return stats_; }
  const CostPacer& pacer() const { return pacer_; }
  std::string origin() const { return session_->origin(); }

 private:
  std::shared_ptr<net::HttpSession> session_;
  std::string target_;
  std::filesystem::path token_file_;
  net::RetryOptions retry_;
  std::string token_;
  CostPacer pacer_;
  CallStats stats_;
};

}  // namespace pb::connectors::shopify
