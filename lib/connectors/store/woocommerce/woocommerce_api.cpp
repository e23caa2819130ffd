#include "connectors/store/woocommerce/woocommerce_api.hpp"

#include <charconv>
#include <chrono>
#include <optional>
#include <utility>

#include <boost/json/parse.hpp>

#include "connectors/store/store.hpp"
#include "core/types.hpp"
#include "net/basic_auth.hpp"
#include "net/retry.hpp"
#include "net/url.hpp"

namespace pb::connectors {
namespace {

namespace json = boost::json;

// A store message longer than this is cut: it goes into logs and `beectl status`.
constexpr std::size_t kMaxStoreMessage = 300;

std::optional<std::size_t> parse_count(const std::string* text) {
  if (text == nullptr) return std::nullopt;
  std::size_t value = 0;
  const auto* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::string shorten(std::string text) {
  if (text.size() > kMaxStoreMessage) {
    text.resize(kMaxStoreMessage);
    text += "...";
  }
  return text;
}

}  // namespace

std::string describe_error_reply(const net::Response& response) {
  std::string text = "HTTP " + std::to_string(response.status);
  json::error_code ec;
  const auto body = json::parse(response.body, ec);
  if (ec || !body.is_object()) return text;
  const auto& object = body.get_object();
  if (const auto* code = object.if_contains("code"); code != nullptr && code->is_string())
    text += " " + std::string(code->get_string());
  if (const auto* message = object.if_contains("message");
      message != nullptr && message->is_string())
    text += ": " + shorten(std::string(message->get_string()));
  return text;
}

WooCommerceApi::WooCommerceApi(std::shared_ptr<net::HttpSession> session, std::string api_root,
                               config::WooAuth auth, WooCredentials credentials)
    : session_(std::move(session)),
      api_root_(std::move(api_root)),
      auth_(auth),
      credentials_(std::move(credentials)),
      basic_header_(net::basic_authorization(credentials_.key, credentials_.secret)) {}

net::Request WooCommerceApi::make_request(std::string method, const std::string& resource,
                                          const std::string& query) const {
  net::Request request;
  request.method = std::move(method);
  request.target = api_root_ + "/" + resource;
  std::string full_query = query;
  if (auth_ == config::WooAuth::query_string) {
    // For servers that drop the Authorization header (some CGI set-ups); HTTPS only,
    // which the configuration checks. The target is never logged or put in a message.
    if (!full_query.empty()) full_query += '&';
    full_query += "consumer_key=" + net::url_encode(credentials_.key) +
                  "&consumer_secret=" + net::url_encode(credentials_.secret);
  } else {
    request.headers.push_back({"Authorization", basic_header_});
  }
  if (!full_query.empty()) request.target += "?" + full_query;
  request.headers.push_back({"Accept", "application/json"});
  return request;
}

boost::asio::awaitable<WooReply> WooCommerceApi::get(const std::string& resource,
                                                     const std::string& query) {
  auto request = make_request("GET", resource, query);
  auto what = "GET " + resource;
  co_return co_await exchange(std::move(request), std::move(what));
}

boost::asio::awaitable<WooReply> WooCommerceApi::post(const std::string& resource,
                                                      const std::string& json_body) {
  auto request = make_request("POST", resource, "");
  // WordPress reads a JSON body only when it is labelled as one.
  request.headers.push_back({"Content-Type", "application/json"});
  request.body = json_body;
  auto what = "POST " + resource;
  co_return co_await exchange(std::move(request), std::move(what));
}

boost::asio::awaitable<WooReply> WooCommerceApi::exchange(net::Request request, std::string what) {
  // The judge parses a 2xx body once and keeps it: a truncated body (a proxy cut the
  // answer) is retried like a 503. Re-sending is safe (after a 503, or after a kept-alive
  // connection dropped as the request went out): batches set absolute quantities, so a
  // request applied twice leaves the same stock.
  std::optional<json::value> parsed;
  std::optional<net::ComeBack> come_back;  // the Retry-After of the last retried answer
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
  net::Response response;
  try {
    response = co_await net::send_with_retries(*session_, request, options, judge);
  } catch (const net::RetriesExhausted& e) {
    // send_with_retries does not wait past its budget: a Retry-After beyond what is left of
    // it ends the retries at once. Every other request of the run would be told the same,
    // so the run stops and names the time the store gave (Retry::no: no retry in the run).
    if (come_back &&
        std::chrono::steady_clock::now() - started + come_back->delay > options.max_total)
      throw StoreError(
          what + ": WooCommerce asked to come back at " + format_time(come_back->at) + " (HTTP " +
              std::to_string(come_back->status) + " with Retry-After: " + come_back->header +
              "), later than this run waits; " + "the SKUs stay pending for the next run",
          StoreError::Retry::no);
    throw WooRequestError(what + ": " + redact(e.what()));
  } catch (const net::TransportError& e) {
    throw WooRequestError(what + ": " + redact(e.what()));
  }
  if (response.status == 401 || response.status == 403)
    throw WooKeyRefused("WooCommerce refused the API key (" +
                        redact(describe_error_reply(response)) +
                        "): check consumer_key_file/consumer_secret_file");
  if (response.status < 200 || response.status >= 300 || !parsed)
    throw WooRequestError(what + ": " + redact(describe_error_reply(response)), response.status);
  WooReply reply;
  reply.body = std::move(*parsed);
  reply.total_pages = parse_count(response.header("X-WP-TotalPages"));
  co_return reply;
}

std::string WooCommerceApi::redact(std::string text) const {
  // Real keys are "ck_"/"cs_" and 40 hex digits; blanking a very short one would
  // garble messages ("1" in "HTTP 401") more than it could protect.
  constexpr std::size_t kShortest = 6;
  for (const auto* secret : {&credentials_.secret, &credentials_.key}) {
    if (secret->size() < kShortest) continue;
    constexpr std::string_view kBlank = "[redacted]";
    for (auto at = text.find(*secret); at != std::string::npos;
         at = text.find(*secret, at + kBlank.size()))
      text.replace(at, secret->size(), kBlank);
  }
  return text;
}

}  // namespace pb::connectors
