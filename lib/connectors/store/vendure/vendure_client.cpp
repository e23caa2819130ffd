#include "connectors/store/vendure/vendure_client.hpp"

#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <boost/json/parse.hpp>

#include "connectors/store/vendure/vendure_graphql.hpp"

namespace pb::connectors::vendure {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

// authOptions.authTokenHeaderKey and apiKeyHeaderKey, apiOptions.channelTokenKey: Vendure's
// defaults.
constexpr std::string_view kAuthTokenHeader = "vendure-auth-token";
constexpr std::string_view kApiKeyHeader = "vendure-api-key";
constexpr std::string_view kChannelHeader = "vendure-token";

// The start of an error body, on one line, for a message.
std::string excerpt(const std::string& body) {
  constexpr std::size_t kMax = 200;
  std::string out;
  for (const char c : body.substr(0, kMax)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (body.size() > kMax) out += "...";
  return out;
}

// A GraphQL response: an object with data or errors (Vendure answers HTTP 200 for both).
std::optional<json::value> graphql_answer(const std::string& body) {
  json::error_code ec;
  auto value = json::parse(body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& object = value.get_object();
  if (!object.contains("data") && !object.contains("errors")) return std::nullopt;
  return value;
}

}  // namespace

Client::Client(std::shared_ptr<net::HttpSession> session, std::string target,
               std::string channel_token, net::RetryOptions retry)
    : session_(std::move(session)),
      target_(std::move(target)),
      channel_token_(std::move(channel_token)),
      retry_(retry) {}

void Client::set_credentials(Credentials credentials) {
  if (credentials.username != credentials_.username ||
      credentials.password != credentials_.password || !credentials.api_key.empty())
    token_.clear();
  credentials_ = std::move(credentials);
}

asio::awaitable<json::value> Client::call(const std::string& body, std::string_view what) {
  bool fresh = false;
  if (!uses_api_key() && token_.empty()) {
    co_await login();
    fresh = true;
  }
  auto answer = co_await exchange(body, what, true);
  auto error = classify_errors(answer);
  if (error.kind != ErrorClass::forbidden) co_return answer;
  if (uses_api_key() || fresh) refuse(error.code, error.message, fresh);
  // Sessions expire (authOptions.sessionDuration) or are revoked: one new login, then the
  // same call again. It sets absolute quantities, so sending it twice is harmless.
  token_.clear();
  co_await login();
  answer = co_await exchange(body, what, true);
  error = classify_errors(answer);
  if (error.kind == ErrorClass::forbidden) refuse(error.code, error.message, true);
  co_return answer;
}

void Client::refuse(const std::string& code, const std::string& message, bool fresh_session) const {
  const auto said = redact(message) + (code.empty() ? "" : " (" + code + ")");
  if (uses_api_key())
    throw CredentialsRefused(
        fmt::format("Vendure refused the API key: {}; check api_key_file {} (and that the server's "
                    "authOptions.tokenMethod includes 'api-key', Vendure 3.6 or later)",
                    said, credentials_.api_key_file.string()));
  throw CredentialsRefused(fmt::format(
      "Vendure refused user \"{}\"{}: {}; check the user's roles (ReadCatalog, UpdateCatalog "
      "or UpdateProduct on the channel) and password_file {}",
      credentials_.username, fresh_session ? " right after logging in" : "", said,
      credentials_.password_file.string()));
}

asio::awaitable<void> Client::login() {
  ++stats_.logins;
  const auto body = login_body(credentials_.username, credentials_.password);
  const auto answer = co_await exchange(body, "login", false);
  const auto result = read_login(answer);
  if (!result) {
    const auto error = classify_errors(answer);
    throw CredentialsRefused(fmt::format("Vendure refused the login of user \"{}\": {}{}",
                                         credentials_.username, redact(error.message),
                                         error.code.empty() ? "" : " (" + error.code + ")"));
  }
  if (!result->ok)
    throw CredentialsRefused(fmt::format(
        "Vendure refused the login of user \"{}\" ({}: {}); check username and password_file {}",
        credentials_.username, result->error_code, redact(result->message),
        credentials_.password_file.string()));
  if (token_.empty())
    throw CredentialsRefused(
        fmt::format("Vendure accepted the login of user \"{}\" but sent no {} header: the server's "
                    "authOptions.tokenMethod must include 'bearer' (or use api_key_file)",
                    credentials_.username, kAuthTokenHeader));
}

asio::awaitable<json::value> Client::exchange(const std::string& body, std::string_view what,
                                              bool authorised) {
  net::Request request;
  request.method = "POST";
  request.target = target_;
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  if (authorised && uses_api_key())
    request.headers.push_back({std::string(kApiKeyHeader), credentials_.api_key});
  else if (authorised)
    request.headers.push_back({"Authorization", "Bearer " + token_});
  if (!channel_token_.empty())
    request.headers.push_back({std::string(kChannelHeader), channel_token_});
  request.body = body;

  // The judge parses each 200 answer once; a body that is not a GraphQL answer (truncated, a
  // proxy's HTML page) is retried like a 5xx. Re-sending, after a 5xx or after a kept-alive
  // connection dropped as the request went out (send_with_retries logs each retry), is safe:
  // the stock mutation sets absolute quantities, so applying it twice leaves the same stock,
  // and the other calls only read (or log in again).
  std::optional<json::value> parsed;
  const net::Judge judge = [&parsed](const net::Response& response) -> net::Verdict {
    parsed.reset();
    if (auto verdict = net::judge_status(response); verdict.retry) return verdict;
    parsed = graphql_answer(response.body);
    if (response.status == 200 && !parsed)
      return {true, "unreadable answer (HTTP 200 without a GraphQL body)"};
    return {};
  };
  net::Response response;
  try {
    response = co_await net::send_with_retries(*session_, request, retry_, judge);
  } catch (const net::RetriesExhausted& e) {
    throw StoreError(std::string(what) + ": " + redact(e.what()), StoreError::Retry::no);
  } catch (const net::TransportError& e) {
    // Not retryable: a certificate that does not verify, an answer over the size cap.
    throw StoreError(std::string(what) + ": " + redact(e.what()), StoreError::Retry::no);
  }
  ++stats_.calls;
  // Vendure sends the session token after a login, and a new one when it renews the session.
  if (const auto* token = response.header(kAuthTokenHeader); token != nullptr && !token->empty())
    token_ = *token;
  if (response.status == 401 || response.status == 403)
    refuse("HTTP " + std::to_string(response.status), excerpt(response.body), false);
  // Apollo answers some malformed documents with HTTP 400 and a GraphQL body: the caller
  // reads its errors.
  if (!parsed)
    throw StoreError(fmt::format("{}: {}{}: HTTP {}: {}", what, session_->origin(), target_,
                                 response.status, redact(excerpt(response.body))),
                     StoreError::Retry::no);
  co_return std::move(*parsed);
}

std::string Client::redact(std::string text) const {
  // Blanking a very short secret would garble messages more than it could protect.
  constexpr std::size_t kShortest = 6;
  constexpr std::string_view kBlank = "[redacted]";
  for (const auto* secret : {&credentials_.password, &credentials_.api_key, &token_}) {
    if (secret->size() < kShortest) continue;
    for (auto at = text.find(*secret); at != std::string::npos;
         at = text.find(*secret, at + kBlank.size()))
      text.replace(at, secret->size(), kBlank);
  }
  return text;
}

}  // namespace pb::connectors::vendure
