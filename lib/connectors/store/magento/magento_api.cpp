#include "connectors/store/magento/magento_api.hpp"

#include <chrono>
#include <optional>
#include <string_view>
#include <utility>

#include <boost/json/parse.hpp>

#include "connectors/store/magento/magento_messages.hpp"
#include "core/types.hpp"
#include "net/retry.hpp"

namespace pb::connectors {
namespace json = boost::json;

MagentoApi::MagentoApi(std::shared_ptr<net::HttpSession> session, std::string root,
                       std::string token)
    : session_(std::move(session)), root_(std::move(root)), token_(std::move(token)) {}

boost::asio::awaitable<MagentoReply> MagentoApi::get(const std::string& resource,
                                                     const std::string& query) {
  net::Request request;
  request.target = root_ + "/" + resource + (query.empty() ? "" : "?" + query);
  auto what = "GET " + resource;
  co_return co_await exchange(std::move(request), std::move(what));
}

boost::asio::awaitable<MagentoReply> MagentoApi::post(const std::string& resource,
                                                      const std::string& json_body) {
  net::Request request;
  request.method = "POST";
  request.target = root_ + "/" + resource;
  request.headers.push_back({"Content-Type", "application/json"});
  request.body = json_body;
  auto what = "POST " + resource;
  co_return co_await exchange(std::move(request), std::move(what));
}

boost::asio::awaitable<MagentoReply> MagentoApi::exchange(net::Request request, std::string what) {
  request.headers.push_back({"Authorization", "Bearer " + token_});
  request.headers.push_back({"Accept", "application/json"});
  // Re-sending is safe, after a 503 as after a kept-alive connection dropped while the request
  // went out (send_with_retries logs each as a retry): source items carry absolute quantities,
  // so a call applied twice leaves the same stock. A 2xx whose body is not JSON (a proxy cut
  // it) is retried like a 503.
  std::optional<net::ComeBack> come_back;
  const net::Judge judge = [&come_back](const net::Response& response) -> net::Verdict {
    auto verdict = net::judge_status(response);
    if (verdict.retry) come_back = net::come_back_of(response);
    if (verdict.retry || response.status < 200 || response.status >= 300) return verdict;
    json::error_code ec;
    (void)json::parse(response.body, ec);
    if (ec)
      return {true, "HTTP " + std::to_string(response.status) + " with a malformed JSON body"};
    return {};
  };
  const net::RetryOptions options;
  const auto started = std::chrono::steady_clock::now();
  net::Response response;
  try {
    response = co_await net::send_with_retries(*session_, request, options, judge);
  } catch (const net::RetriesExhausted& e) {
    // A Retry-After beyond the budget: every other request of the run would be told the same,
    // so the run stops at once (Retry::no) and names the delay; the SKUs stay pending.
    if (come_back &&
        std::chrono::steady_clock::now() - started + come_back->delay > options.max_total)
      throw StoreError(what + ": Magento asked to come back later than this run waits (HTTP " +
                           std::to_string(come_back->status) + " with Retry-After: " +
                           come_back->header + "); the SKUs stay pending for the next run",
                       StoreError::Retry::no);
    throw MagentoRequestError(what + ": " + redact(e.what()));
  } catch (const net::TransportError& e) {
    throw MagentoRequestError(what + ": " + redact(e.what()));
  }
  MagentoReply reply;
  reply.status = response.status;
  json::error_code ec;
  auto body = json::parse(response.body, ec);
  if (!ec) reply.body = std::move(body);
  reply.text = redact(error_text(reply.body));
  if (reply.text.empty()) reply.text = "HTTP " + std::to_string(response.status);
  if (response.status == 401 || response.status == 403)
    throw MagentoTokenRefused(
        "Magento refused the access token (HTTP " + std::to_string(response.status) + ": " +
        reply.text +
        "): check access_token_file, the integration's API resources, and that the store "
        "allows integration tokens as Bearer tokens (oauth/consumer/enable_integration_as_bearer)");
  co_return reply;
}

std::string MagentoApi::redact(std::string text) const {
  // Integration tokens are 32 characters; blanking a very short one would garble messages.
  constexpr std::size_t kShortest = 6;
  if (token_.size() < kShortest) return text;
  constexpr std::string_view kBlank = "[redacted]";
  for (auto at = text.find(token_); at != std::string::npos;
       at = text.find(token_, at + kBlank.size()))
    text.replace(at, token_.size(), kBlank);
  return text;
}

}  // namespace pb::connectors
