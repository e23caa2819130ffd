#include "connectors/store/shopify/shopify_client.hpp"

#include <optional>
#include <utility>

#include <fmt/format.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include "connectors/store/store.hpp"
#include "log/log.hpp"

namespace pb::connectors::shopify {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

asio::awaitable<void> sleep_for(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
}

// The start of an error body, on one line, for a message.
std::string excerpt(const std::string& body) {
  constexpr std::size_t kMax = 200;
  std::string out;
  for (const char c : body.substr(0, kMax)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (body.size() > kMax) out += "...";
  return out;
}

net::Request graphql_request(const std::string& target, const std::string& token,
                             std::string body) {
  net::Request request;
  request.method = "POST";
  request.target = target;
  request.headers = {{"Content-Type", "application/json"},
                     {"Accept", "application/json"},
                     {"X-Shopify-Access-Token", token}};
  request.body = std::move(body);
  return request;
}

// One exchange, transport retries included: the answer's JSON, which read_reply accepts.
// Throws StoreError(Retry::no) for a refused token, another HTTP error or retries run out.
asio::awaitable<boost::json::value> exchange(net::HttpSession& session, const net::Request& request,
                                             const net::RetryOptions& retry,
                                             const std::filesystem::path& token_file) {
  // The judge parses each 200 answer once; a body that is not a GraphQL answer
  // (truncated, an HTML error page) is retried like a 5xx. Re-sending (after a 5xx, or after
  // a kept-alive connection dropped as the request went out) is safe: a mutation carries its
  // idempotency key, so Shopify applies it once however often it arrives; the rest only read.
  std::optional<boost::json::value> parsed;
  const net::Judge judge = [&parsed](const net::Response& response) -> net::Verdict {
    parsed.reset();
    if (auto verdict = net::judge_status(response); verdict.retry) return verdict;
    if (response.status != 200) return {};
    boost::system::error_code ec;
    auto value = boost::json::parse(response.body, ec);
    if (ec || !read_reply(value))
      return {true, "unreadable answer (HTTP 200 without a GraphQL body)"};
    parsed = std::move(value);
    return {};
  };
  net::Response response;
  try {
    response = co_await net::send_with_retries(session, request, retry, judge);
  } catch (const net::RetriesExhausted& e) {
    throw StoreError(e.what(), StoreError::Retry::no);
  } catch (const net::TransportError& e) {
    throw StoreError(e.what(), StoreError::Retry::no);  // not retryable: a certificate, a cap
  }

  if (response.status == 401 || response.status == 403)
    throw TokenRefused(
        fmt::format("Shopify refused the access token (HTTP {}): check "
                    "access_token_file {} and the app's access scopes",
                    response.status, token_file.string()));
  if (response.status != 200 || !parsed)
    throw StoreError(fmt::format("{}{}: HTTP {}: {}", session.origin(), request.target,
                                 response.status, excerpt(response.body)),
                     StoreError::Retry::no);
  co_return std::move(*parsed);
}

// After the `throttled`th THROTTLED answer, which asks to wait `delay` more.
void check_throttle_budget(const std::string& origin, int throttled,
                           std::chrono::milliseconds waited, std::chrono::milliseconds delay) {
  if (throttled > GraphqlClient::kMaxThrottled || waited + delay > GraphqlClient::kMaxThrottleWait)
    throw StoreError(fmt::format("{}: still throttled after {} attempts and {:.1f} s of waiting "
                                 "(another client may be using this app's rate limit)",
                                 origin, throttled, static_cast<double>(waited.count()) / 1000.0),
                     StoreError::Retry::no);
}

void throw_if_refused(const Reply& reply) {
  if (reply.errors.empty() || !reply.data_missing()) return;
  const auto& first = reply.errors.front();
  throw StoreError(fmt::format("Shopify refused the request: {}{}", first.message,
                               first.code.empty() ? "" : " (" + first.code + ")"),
                   StoreError::Retry::no);
}

}  // namespace

GraphqlClient::GraphqlClient(std::shared_ptr<net::HttpSession> session, std::string target,
                             std::filesystem::path token_file, net::RetryOptions retry)
    : session_(std::move(session)),
      target_(std::move(target)),
      token_file_(std::move(token_file)),
      retry_(retry) {}

asio::awaitable<Reply> GraphqlClient::call(CallKind kind, std::string body) {
  const net::Request request = graphql_request(target_, token_, std::move(body));
  int throttled = 0;
  std::chrono::milliseconds throttle_wait{0};
  for (;;) {
    if (const auto delay = pacer_.delay_before(kind, Clock::now()); delay.count() > 0) {
      stats_.paced += delay;
      co_await sleep_for(delay);
    }
    const boost::json::value parsed = co_await exchange(*session_, request, retry_, token_file_);
    const auto at = Clock::now();

    auto reply = std::move(*read_reply(parsed));
    ++stats_.requests;
    if (reply.cost) {
      pacer_.observe(*reply.cost, kind, at);
      if (reply.cost->actual) stats_.points += *reply.cost->actual;
    }
    if (reply.throttled()) {
      ++stats_.throttled;
      const auto delay = CostPacer::throttled_delay(reply.cost.value_or(QueryCost{}));
      check_throttle_budget(session_->origin(), ++throttled, throttle_wait, delay);
      pb::log::debug("{}: throttled; resending in {} ms", session_->origin(), delay.count());
      throttle_wait += delay;
      stats_.throttle_wait += delay;
      co_await sleep_for(delay);
      continue;  // the same request: a mutation keeps its idempotency key
    }
    throw_if_refused(reply);
    co_return reply;
  }
}

}  // namespace pb::connectors::shopify
