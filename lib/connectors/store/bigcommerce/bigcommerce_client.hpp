// One BigCommerce REST v3 exchange at a time, with what every request needs: the X-Auth-Token
// header, pacing by the store's request quota (X-Rate-Limit-*), waiting out a 429 for the
// Time-Reset-Ms it names, retries of transport failures and 5xx (Retry-After honoured), and
// failures no retry mends turned into StoreError. Requests are made one after another: the
// quota is the store's, shared by all its apps, so concurrency would only buy 429s.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "connectors/store/bigcommerce/bigcommerce_rate.hpp"
#include "connectors/store/store.hpp"
#include "net/http_session.hpp"
#include "net/retry.hpp"

namespace pb::connectors::bigcommerce {

// BigCommerce refused the access token (HTTP 401/403): Retry::no. Its own type so that
// prepare() can leave the message on the SKUs of the first push (as Shopify's and
// WooCommerce's connectors do).
class TokenRefused : public StoreError {
 public:
  explicit TokenRefused(const std::string& message) : StoreError(message, Retry::no) {}
};

// What the requests so far cost; for logs, tests and the benchmark.
struct ClientStats {
  std::size_t requests = 0;                // answers read (retries inside net:: not counted)
  std::size_t rate_limited = 0;            // 429 answers carrying the quota headers
  std::chrono::milliseconds paced{0};      // waited because the quota was used up
  std::chrono::milliseconds rate_wait{0};  // waited after 429 answers
};

// An answer the caller reads: a 2xx (its JSON body parsed) or a 422 (the raw problem body).
struct Answer {
  unsigned status = 0;
  boost::json::value json;  // 2xx only
  std::string body;         // 422 only
};

class Client {
 public:
  // One request gives up after this many 429s, or this much time spent waiting them out (or
  // a quota wait longer than that): Retry::no, the SKUs stay pending for the next run.
  static constexpr int kMaxRateLimited = 20;
  static constexpr std::chrono::milliseconds kMaxRateWait{120'000};

  // `api_root`: the path of /stores/HASH/v3 on the session's origin; `token_file` only names
  // the file in messages.
  Client(std::shared_ptr<net::HttpSession> session, std::string api_root,
         std::filesystem::path token_file, net::RetryOptions retry);

  void set_access_token(std::string token) { token_ = std::move(token); }

  // While set (the catalogue walk), a wait for the quota or after a 429 ends as soon as `*stop`
  // turns true, with StoreError: a walk waiting out the store's window (up to 30 s) honours
  // `beectl pause` and SIGTERM within a fraction of a second. Null: waits run their course.
  void set_stop(std::shared_ptr<const std::atomic<bool>> stop) { stop_ = std::move(stop); }

  // `method` is "GET" or "PUT"; `resource` is below the API root ("/inventory/items?page=2").
  // Callers pass named strings, not temporaries (a g++ 12 coroutine pitfall). Returns a 2xx or
  // a 422.
  // Throws TokenRefused (401/403) and StoreError(Retry::no) for anything else that is not
  // mended by the retries (another status, retries or the rate budget run out).
  boost::asio::awaitable<Answer> send(const char* method, std::string resource, std::string body);

  // `text` with the token blanked out: for what the store says that ends up in a message.
  std::string redact(std::string text) const;

  const ClientStats& stats() const { return stats_; }
  std::string origin() const { return session_->origin(); }

 private:
  boost::asio::awaitable<void> wait_for_quota();
  boost::asio::awaitable<void> pause(std::chrono::milliseconds delay);
  boost::asio::awaitable<net::Response> exchange(const net::Request& request,
                                                 boost::json::value& parsed);

  std::shared_ptr<net::HttpSession> session_;
  std::string api_root_;
  std::filesystem::path token_file_;
  net::RetryOptions retry_;
  std::string token_;
  RatePacer pacer_;
  ClientStats stats_;
  std::shared_ptr<const std::atomic<bool>> stop_;
};

}  // namespace pb::connectors::bigcommerce
