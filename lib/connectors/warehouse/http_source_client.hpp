// What the warehouses read over HTTP(S) share: their session, how their requests are sent
// (credentials, retries on 429, 5xx and dropped connections) and what a failure says: the URL
// without its query, the status and the start of the body, never a secret.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "connectors/warehouse/http_source_auth.hpp"
#include "net/http_session.hpp"
#include "net/url.hpp"

namespace pb::connectors {

// Parses a source's configured URL (which the configuration loader checked); throws
// WarehouseError for one that does not parse.
net::Url parse_source_url(const std::string& text);

// "https://api.example.com/v1/inventory": for Feed::origin, describe() and messages. The query
// is left out, as it may carry an API key; "?..." shows there is one.
std::string display_url(const net::Url& url);

// The path and query of `url` as a request target ("/" for an empty path).
std::string request_target(const net::Url& url);

// A session to `url`'s origin with the source's trust anchors and timeout, and a response size
// cap of `max_response_bytes`. Throws WarehouseError (an unreadable ca_file, say).
std::shared_ptr<net::HttpSession> make_source_session(boost::asio::any_io_executor io,
                                                      const net::Url& url,
                                                      const config::HttpSourceConfig& config,
                                                      std::size_t max_response_bytes);

// "HTTP 404: <the first 200 bytes of the body on one line, secrets blanked out>".
std::string describe_failure(const net::Response& response,
                             const HttpSourceCredentials& credentials);

class HttpSourceClient {
 public:
  // `origin` starts every message (display_url()). The session must outlive the client.
  HttpSourceClient(net::HttpSession& session, std::string origin,
                   HttpSourceCredentials credentials);

  // GETs `target` with `headers` and the credentials, retrying 429, 5xx and transport failures
  // with backoff. Returns a 2xx response, or a 304 when `accept_not_modified`. Throws
  // WarehouseError "<origin>: <what>: HTTP 404: ..." for any other status, and when the retries
  // run out or a failure no retry mends happens (a certificate, a response over the size cap).
  // Follows redirects (301, 302, 303, 307, 308; net/redirect.hpp): at most 5 hops, https only
  // unless to loopback, with the same `headers` (a conditional GET stays conditional, and its
  // 304 counts wherever it comes from). The credentials go only to the session's own origin
  // (scheme, host and port), never to another one a redirect leads to (as curl does), which
  // gets a session of its own made by HttpSession::for_origin. A redirect that is not followed
  // (a loop, too many hops, a bad Location) throws WarehouseError saying so.
  boost::asio::awaitable<net::Response> get(std::string target, std::vector<net::Header> headers,
                                            std::string what, bool accept_not_modified = false);

  const std::string& origin() const { return origin_; }

 private:
  std::string prefix(const std::string& what) const;
  // The session for a hop of a redirect chain: the client's own at its origin, else one made
  // for that origin (kept for the next pages).
  net::HttpSession& session_for(const net::Url& origin, const std::string& what);
  // One request with retries, its failures as WarehouseError.
  boost::asio::awaitable<net::Response> send(net::HttpSession& session, const net::Request& request,
                                             const std::string& what);

  net::HttpSession& session_;
  net::Url home_;  // the session's origin
  std::string origin_;
  HttpSourceCredentials credentials_;
  std::map<std::string, std::shared_ptr<net::HttpSession>> elsewhere_;  // by origin
};

}  // namespace pb::connectors
