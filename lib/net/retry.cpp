#include "net/retry.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "async/backoff.hpp"
#include "log/log.hpp"

namespace pb::net {
namespace {

using Clock = std::chrono::steady_clock;

// TransportError messages start with the origin, which the final message names once.
std::string without_origin(std::string_view message, std::string_view origin) {
  if (message.size() > origin.size() + 2 && message.substr(0, origin.size()) == origin &&
      message.substr(origin.size(), 2) == ": ")
    message.remove_prefix(origin.size() + 2);
  return std::string(message);
}

RetriesExhausted give_up(std::string_view origin, int attempts, Clock::duration elapsed,
                         std::string_view reason) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  return RetriesExhausted(fmt::format("{}: gave up after {} attempt{} in {:.1f} s: {}", origin,
                                      attempts, attempts == 1 ? "" : "s", seconds, reason));
}

// Takes everything by value, so that the loop does not depend on the lifetime of the
// caller's arguments (a Judge converted from judge_status is a temporary).
boost::asio::awaitable<Response> retry_loop(HttpSession& session, Request request,
                                            RetryOptions options, Judge judge) {
  const auto start = Clock::now();
  const int max_attempts = std::max(1, options.max_attempts);
  const std::string origin = session.origin();
  for (int attempt = 1;; ++attempt) {
    std::string reason;
    std::optional<std::chrono::milliseconds> asked;  // Retry-After
    try {
      Request copy = request;
      Response response = co_await session.send(std::move(copy));
      Verdict verdict = judge(response);
      if (!verdict.retry) co_return response;
      reason = verdict.reason.empty() ? "HTTP " + std::to_string(response.status)
                                      : std::move(verdict.reason);
      if (const auto* value = response.header("Retry-After"))
        asked = parse_retry_after(*value, std::chrono::system_clock::now());
    } catch (const TransportError& e) {
      if (!e.retryable()) throw;
      reason = without_origin(e.what(), origin);
    }
    const auto elapsed = Clock::now() - start;
    if (attempt >= max_attempts) throw give_up(origin, attempt, elapsed, reason);
    auto delay = async::backoff_delay(options, attempt - 1);
    if (asked && *asked > delay) delay = *asked;
    if (elapsed + delay > options.max_total) throw give_up(origin, attempt, elapsed, reason);
    pb::log::warn("{}: attempt {} of {} failed: {}; retrying in {} ms", origin, attempt,
                  max_attempts, reason, delay.count());
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

}  // namespace

Verdict judge_status(const Response& response) {
  switch (response.status) {
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return {true, "HTTP " + std::to_string(response.status)};
    default:
      return {};
  }
}

boost::asio::awaitable<Response> send_with_retries(HttpSession& session, const Request& request,
                                                   const RetryOptions& options,
                                                   const Judge& judge) {
  return retry_loop(session, request, options, judge);
}

}  // namespace pb::net
