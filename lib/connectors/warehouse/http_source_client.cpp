#include "connectors/warehouse/http_source_client.hpp"

#include <stdexcept>
#include <utility>

#include "connectors/warehouse/feed.hpp"
#include "net/redirect.hpp"
#include "net/retry.hpp"
#include "net/url_reference.hpp"

namespace pb::connectors {
namespace {

// Enough of an error page to tell a proxy's HTML from the API's JSON message.
constexpr std::size_t kExcerptBytes = 200;

std::string one_line(std::string_view text) {
  std::string out;
  bool space = false;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// A TransportError or RetriesExhausted message starts with the session's origin, which the
// source's own origin replaces.
std::string without_prefix(std::string message, const std::string& prefix) {
  if (!prefix.empty() && message.starts_with(prefix + ": ")) message.erase(0, prefix.size() + 2);
  return message;
}

}  // namespace

net::Url parse_source_url(const std::string& text) {
  try {
    return net::Url::parse(text);
  } catch (const std::invalid_argument& e) {
    // Not the text itself: its query may hold a key.
    throw WarehouseError(std::string("the configured URL is not usable: ") + e.what());
  }
}

std::string display_url(const net::Url& url) {
  std::string out = url.origin() + url.path;
  if (!url.query.empty()) out += "?...";
  return out;
}

std::string request_target(const net::Url& url) {
  std::string target = url.path.empty() ? "/" : url.path;
  if (!url.query.empty()) {
    target += '?';
    target += url.query;
  }
  return target;
}

std::shared_ptr<net::HttpSession> make_source_session(boost::asio::any_io_executor io,
                                                      const net::Url& url,
                                                      const config::HttpSourceConfig& config,
                                                      std::size_t max_response_bytes) {
  net::ClientOptions options;
  options.ca_file = config.ca_file;
  options.request_timeout = config.timeout;
  options.max_in_flight = 1;  // pages are read one after the other
  options.max_response_bytes = max_response_bytes;
  try {
    return net::make_http_session(std::move(io), url, std::move(options));
  } catch (const std::exception& e) {
    throw WarehouseError(display_url(url) + ": " + e.what());
  }
}

std::string describe_failure(const net::Response& response,
                             const HttpSourceCredentials& credentials) {
  std::string text = "HTTP " + std::to_string(response.status);
  if (response.status == 401 || response.status == 403)
    text += " (check bearer_token_file, or username and password_file)";
  std::string excerpt = one_line(std::string_view(response.body).substr(0, kExcerptBytes));
  if (response.body.size() > kExcerptBytes) excerpt += "...";
  if (!excerpt.empty()) text += ": " + credentials.redact(std::move(excerpt));
  return text;
}

HttpSourceClient::HttpSourceClient(net::HttpSession& session, std::string origin,
                                   HttpSourceCredentials credentials)
    : session_(session),
      home_(net::Url::parse(session.origin())),
      origin_(std::move(origin)),
      credentials_(std::move(credentials)) {}

std::string HttpSourceClient::prefix(const std::string& what) const {
  return what.empty() ? origin_ + ": " : origin_ + ": " + what + ": ";
}

net::HttpSession& HttpSourceClient::session_for(const net::Url& origin, const std::string& what) {
  if (net::same_origin(origin, home_)) return session_;
  auto& session = elsewhere_[origin.origin()];
  if (!session) {
    try {
      session = session_.for_origin(origin);
    } catch (const std::exception& e) {
      elsewhere_.erase(origin.origin());
      throw WarehouseError(prefix(what) + "cannot follow the redirect to " + origin.origin() +
                           ": " + e.what());
    }
  }
  return *session;
}

boost::asio::awaitable<net::Response> HttpSourceClient::send(net::HttpSession& session,
                                                             const net::Request& request,
                                                             const std::string& what) {
  // A failure at the source's own origin is told with that origin (prefix()); one at an
  // origin a redirect led to keeps its own, so that the message says where it happened.
  const std::string own = &session == &session_ ? session_.origin() : std::string();
  const net::RetryOptions options;
  try {
    co_return co_await net::send_with_retries(session, request, options);
  } catch (const net::RetriesExhausted& e) {
    throw WarehouseError(prefix(what) + credentials_.redact(without_prefix(e.what(), own)));
  } catch (const net::TransportError& e) {
    std::string message = without_prefix(e.what(), own);
    if (e.kind() == net::FailureKind::too_large) message += " (raise max_size if it is right)";
    throw WarehouseError(prefix(what) + credentials_.redact(std::move(message)));
  } catch (const std::invalid_argument& e) {
    // A request that would not serialise: a target or header value from the server or the
    // configuration with a control character in it.
    throw WarehouseError(prefix(what) + "cannot send the request: " + e.what());
  }
}

boost::asio::awaitable<net::Response> HttpSourceClient::get(std::string target,
                                                            std::vector<net::Header> headers,
                                                            std::string what,
                                                            bool accept_not_modified) {
  net::RedirectChain chain(home_, std::move(target));
  net::Response response;
  for (;;) {
    net::Request request;
    request.method = "GET";
    request.target = chain.target();
    request.headers = headers;
    if (chain.at_home()) credentials_.apply(request);
    auto& session = session_for(chain.origin(), what);
    response = co_await send(session, request, what);
    if (!net::is_redirect(response.status)) break;
    try {
      chain.follow(response);
    } catch (const net::RedirectError& e) {
      throw WarehouseError(prefix(what) + credentials_.redact(e.what()));
    }
  }
  if (response.status == 304 && accept_not_modified) co_return response;
  if (response.status < 200 || response.status >= 300)
    throw WarehouseError(prefix(what) + describe_failure(response, credentials_));
  co_return response;
}

}  // namespace pb::connectors
