#include "connectors/store/bigcommerce/bigcommerce_client.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include "connectors/store/bigcommerce/bigcommerce_json.hpp"
#include "log/log.hpp"

namespace pb::connectors::bigcommerce {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// How often a wait looks at the stop flag.
constexpr std::chrono::milliseconds kStopCheck{200};

// The start of an error body, on one line, for a message.
std::string excerpt(const std::string& body) {
  constexpr std::size_t kMax = 200;
  std::string out;
  for (const char c : body.substr(0, kMax)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (body.size() > kMax) out += "...";
  return out;
}

std::string seconds(std::chrono::milliseconds ms) {
  return fmt::format("{:.1f} s", static_cast<double>(ms.count()) / 1000.0);
}

}  // namespace

Client::Client(std::shared_ptr<net::HttpSession> session, std::string api_root,
               std::filesystem::path token_file, net::RetryOptions retry)
    : session_(std::move(session)),
      api_root_(std::move(api_root)),
      token_file_(std::move(token_file)),
      retry_(retry) {}

asio::awaitable<void> Client::pause(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto until = Clock::now() + delay;
  for (auto now = Clock::now(); now < until; now = Clock::now()) {
    if (stop_ && stop_->load())
      throw StoreError("stopped while waiting for BigCommerce's request quota",
                       StoreError::Retry::no);
    timer.expires_after(stop_ ? std::min<Clock::duration>(until - now, kStopCheck) : until - now);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<void> Client::wait_for_quota() {
  const auto delay = pacer_.delay_before(Clock::now());
  if (delay.count() <= 0) co_return;
  if (delay > kMaxRateWait)
    throw StoreError(fmt::format("{}: BigCommerce's request quota resets in {}, later than a run "
                                 "waits; the SKUs stay pending for the next run",
                                 session_->origin(), seconds(delay)),
                     StoreError::Retry::no);
  stats_.paced += delay;
  co_await pause(delay);
}

asio::awaitable<net::Response> Client::exchange(const net::Request& request,
                                                boost::json::value& parsed) {
  // Every answer (retried ones too) tells the pacer what is left of the quota. A 429 that
  // names when the quota resets is returned, to be waited out here for exactly that long; one
  // without (the platform shedding load) is retried with backoff, as are 5xx (Retry-After
  // honoured) and a 2xx whose body is not JSON (cut by a proxy). Re-sending is safe, after a
  // 5xx or after a kept-alive connection dropped as the request went out (net logs each as a
  // retry): adjustments are absolute, so a request applied twice leaves the same quantities.
  const net::Judge judge = [this, &parsed](const net::Response& response) -> net::Verdict {
    const auto status = read_rate_status(response);
    pacer_.observe(status, Clock::now());
    if (response.status == 429)
      return status.reset_in ? net::Verdict{}
                             : net::Verdict{true, "HTTP 429 without rate-limit headers"};
    if (auto verdict = net::judge_status(response); verdict.retry) return verdict;
    if (response.status < 200 || response.status >= 300) return {};
    boost::system::error_code ec;
    parsed = boost::json::parse(response.body, ec);
    if (ec)
      return {true, "HTTP " + std::to_string(response.status) + " with a malformed JSON body"};
    return {};
  };
  try {
    co_return co_await net::send_with_retries(*session_, request, retry_, judge);
  } catch (const net::RetriesExhausted& e) {
    throw StoreError(redact(e.what()) + "; the SKUs stay pending for the next run",
                     StoreError::Retry::no);
  } catch (const net::TransportError& e) {
    throw StoreError(redact(e.what()), StoreError::Retry::no);  // a certificate, a size cap
  }
}

asio::awaitable<Answer> Client::send(const char* method, std::string resource, std::string body) {
  net::Request request;
  request.method = method;
  request.target = api_root_ + resource;
  request.headers = {{"Accept", "application/json"}, {"X-Auth-Token", token_}};
  if (!body.empty()) request.headers.push_back({"Content-Type", "application/json"});
  request.body = std::move(body);
  const std::string what = request.method + " " + resource.substr(0, resource.find('?'));
  int limited = 0;
  std::chrono::milliseconds waited{0};
  for (;;) {
    co_await wait_for_quota();
    boost::json::value parsed;
    const net::Response response = co_await exchange(request, parsed);
    ++stats_.requests;
    if (response.status == 429) {
      ++stats_.rate_limited;
      const auto delay =
          std::max(std::chrono::milliseconds(1),
                   read_rate_status(response).reset_in.value_or(std::chrono::milliseconds(0)));
      if (++limited > kMaxRateLimited || waited + delay > kMaxRateWait)
        throw StoreError(fmt::format("{} {}: still refused for rate (HTTP 429) after {} waits "
                                     "and {}; the store's request quota is shared by all its "
                                     "apps; the SKUs stay pending for the next run",
                                     session_->origin(), what, limited - 1, seconds(waited)),
                         StoreError::Retry::no);
      pb::log::info("{} {}: HTTP 429 (request quota used up); retrying in {} ms",
                    session_->origin(), what, delay.count());
      waited += delay;
      stats_.rate_wait += delay;
      co_await pause(delay);
      continue;  // the same request: an absolute adjustment may be sent again
    }
    if (response.status == 401 || response.status == 403)
      throw TokenRefused(
          fmt::format("BigCommerce refused the access token (HTTP {}): check "
                      "access_token_file {} and the API account's scopes "
                      "(it needs store_inventory)",
                      response.status, token_file_.string()));
    if (response.status >= 200 && response.status < 300)
      co_return Answer{response.status, std::move(parsed), {}};
    if (response.status == 422) co_return Answer{response.status, {}, response.body};
    const auto problem = parse_problem(response.body);
    throw StoreError(
        fmt::format("{} {}: HTTP {}: {}", session_->origin(), what, response.status,
                    redact(problem ? describe_problem(*problem) : excerpt(response.body))),
        StoreError::Retry::no);
  }
}

std::string Client::redact(std::string text) const {
  constexpr std::size_t kShortest = 6;  // a shorter "token" would garble messages ("HTTP 401")
  if (token_.size() < kShortest) return text;
  constexpr std::string_view kBlank = "[redacted]";
  for (auto at = text.find(token_); at != std::string::npos;
       at = text.find(token_, at + kBlank.size()))
    text.replace(at, token_.size(), kBlank);
  return text;
}

}  // namespace pb::connectors::bigcommerce
