// The WooCommerce REST API v3 requests the connector makes, with what they all
// share: the API root, authentication, retries, and what a status means.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "config/config.hpp"
#include "connectors/store/store.hpp"
#include "net/http_session.hpp"

namespace pb::connectors {

// Read from the key files at each run; kept out of every message and log line.
struct WooCredentials {
  std::string key;
  std::string secret;
};

struct WooReply {
  boost::json::value body;                 // parsed: a 2xx whose body is not JSON is retried
  std::optional<std::size_t> total_pages;  // X-WP-TotalPages, when the store sent it
};

// One request failed: retries ran out, a failure no retry mends (a certificate
// that does not verify), or a status the connector does not expect. The
// message is safe to show: it names the request, never the credentials.
class WooRequestError : public std::runtime_error {
 public:
  explicit WooRequestError(const std::string& message, unsigned status = 0)
      : std::runtime_error(message), status_(status) {}
  // The HTTP status of an unexpected answer; 0 when there was none to accept.
  unsigned status() const { return status_; }

 private:
  unsigned status_;
};

// The store refused the key (HTTP 401/403): Retry::no. Its own type so that prepare() can
// leave the message on the SKUs of the first push, as a refusal during a push does.
class WooKeyRefused : public StoreError {
 public:
  explicit WooKeyRefused(const std::string& message) : StoreError(message, Retry::no) {}
};

class WooCommerceApi {
 public:
  // `api_root` is the path of the REST root on the session's origin
  // ("/wp-json/wc/v3", or "/shop/wp-json/wc/v3" for a site in a folder).
  WooCommerceApi(std::shared_ptr<net::HttpSession> session, std::string api_root,
                 config::WooAuth auth, WooCredentials credentials);

  // `resource` is relative to the root ("products", "products/12/variations"); `query` is
  // already url-encoded, without '?'. Both throw WooRequestError, and StoreError (Retry::no)
  // when the store refuses the key (HTTP 401/403): every other request would fail the same way.
  boost::asio::awaitable<WooReply> get(const std::string& resource, const std::string& query);
  boost::asio::awaitable<WooReply> post(const std::string& resource, const std::string& json_body);

  // `text` with the consumer key and secret blanked out: for anything the store says
  // that ends up in a message (a store could echo what it was sent).
  std::string redact(std::string text) const;

 private:
  net::Request make_request(std::string method, const std::string& resource,
                            const std::string& query) const;
  boost::asio::awaitable<WooReply> exchange(net::Request request, std::string what);

  std::shared_ptr<net::HttpSession> session_;
  std::string api_root_;
  config::WooAuth auth_;
  WooCredentials credentials_;
  std::string basic_header_;
};

// "HTTP 401 woocommerce_rest_authentication_error: Consumer secret is invalid." from a
// WP_Error body ({"code", "message", "data"}); "HTTP 502" when the body is not one (a
// proxy's HTML page).
std::string describe_error_reply(const net::Response& response);

}  // namespace pb::connectors
