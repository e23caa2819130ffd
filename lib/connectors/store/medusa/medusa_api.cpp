#include "connectors/store/medusa/medusa_api.hpp"

#include <chrono>
#include <optional>
#include <utility>

#include <boost/json/parse.hpp>

#include "connectors/store/medusa/medusa_requests.hpp"
#include "core/types.hpp"
#include "net/basic_auth.hpp"
#include "net/retry.hpp"

namespace pb::connectors::medusa {
namespace json = boost::json;

Api::Api(std::shared_ptr<net::HttpSession> session, std::string root, std::string api_key)
    : session_(std::move(session)),
      root_(std::move(root)),
      api_key_(std::move(api_key)),
      // A secret key is the Basic user name with an empty password (Medusa's docs).
      authorization_(net::basic_authorization(api_key_, "")) {}

boost::asio::awaitable<Reply> Api::get(const std::string& path, const std::string& query) {
  net::Request request;
  request.method = "GET";
  request.target = root_ + path + (query.empty() ? "" : "?" + query);
  auto what = "GET " + path;
  co_return co_await exchange(std::move(request), std::move(what));
}

boost::asio::awaitable<Reply> Api::post(const std::string& path, const std::string& json_body) {
  net::Request request;
  request.method = "POST";
  request.target = root_ + path;
  request.headers.push_back({"Content-Type", "application/json"});
  request.body = json_body;
  auto what = "POST " + path;
  co_return co_await exchange(std::move(request), std::move(what));
}

boost::asio::awaitable<Reply> Api::exchange(net::Request request, std::string what) {
  request.headers.push_back({"Authorization", authorization_});
  request.headers.push_back({"Accept", "application/json"});
  // Re-sending is safe: every write sets an absolute stocked_quantity, so a request applied
  // twice (its answer lost when a kept-alive connection dropped, or a 503 after the commit)
  // leaves the same stock. send_with_retries logs each such re-send as a retry. A 2xx body that
  // is not JSON (cut by a proxy) is retried like a 503.
  std::optional<json::value> parsed;
  std::optional<net::ComeBack> come_back;
  const net::Judge judge = [&parsed, &come_back](const net::Response& response) -> net::Verdict {
    auto verdict = net::judge_status(response);
    if (verdict.retry) come_back = net::come_back_of(response);
    if (verdict.retry || response.status < 200 || response.status >= 300) return verdict;
    json::error_code ec;
    auto value = json::parse(response.body, ec);
    if (ec)
      return {true, "HTTP " + std::to_string(response.status) + " with a malformed JSON body (" +
                        ec.message() + ")"};
    parsed = std::move(value);
    return {};
  };
  const net::RetryOptions options;
  const auto started = std::chrono::steady_clock::now();
  Reply reply;
  try {
    reply.response = co_await net::send_with_retries(*session_, request, options, judge);
  } catch (const net::RetriesExhausted& e) {
    // A Retry-After past the retry budget: every other request would be told the same, so the
    // run stops and says when the server asked to come back.
    if (come_back &&
        std::chrono::steady_clock::now() - started + come_back->delay > options.max_total)
      throw StoreError(what + ": Medusa asked to come back at " + format_time(come_back->at) +
                           " (HTTP " + std::to_string(come_back->status) +
                           " with Retry-After: " + come_back->header +
                           "), later than this run waits; the SKUs stay pending for the next run",
                       StoreError::Retry::no);
    throw RequestError(what + ": " + redact(e.what()));
  } catch (const net::TransportError& e) {
    throw RequestError(what + ": " + redact(e.what()));
  }
  reply.status = reply.response.status;
  if (reply.status == 401 || reply.status == 403)
    throw KeyRefused("Medusa refused the secret API key (" +
                     redact(describe_error(reply.response)) +
                     "): check api_key_file (a secret key, sk_..., that is not revoked)");
  if (reply.ok() && parsed) {
    reply.body = std::move(*parsed);
    reply.response.body.clear();
    co_return reply;
  }
  if (is_refusal(reply.status)) co_return reply;
  throw RequestError(what + ": " + redact(describe_error(reply.response)));
}

std::string Api::redact(std::string text) const {
  // Real keys are "sk_" and 64 hex digits; blanking a very short one would garble messages.
  constexpr std::size_t kShortest = 6;
  if (api_key_.size() < kShortest) return text;
  constexpr std::string_view kBlank = "[redacted]";
  for (auto at = text.find(api_key_); at != std::string::npos;
       at = text.find(api_key_, at + kBlank.size()))
    text.replace(at, api_key_.size(), kBlank);
  return text;
}

}  // namespace pb::connectors::medusa
