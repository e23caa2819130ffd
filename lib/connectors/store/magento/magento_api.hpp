// The Magento REST requests the connector makes, with what they all share: the
// /rest/{store_code}/V1 root, the Bearer token, retries, and what a status means.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "connectors/store/store.hpp"
#include "net/http_session.hpp"

namespace pb::connectors {

// An answer Magento gave and the connector must judge: a 2xx, or a refusal (4xx but 401/403).
struct MagentoReply {
  unsigned status = 0;
  boost::json::value body;  // parsed when it is JSON, else null
  std::string text;         // error_text(body), or "HTTP <status>" when it has none
  bool ok() const { return status >= 200 && status < 300; }
};

// One request got no answer to judge: retries ran out, or a failure no retry mends (a
// certificate that does not verify). Safe to show: it never holds the token.
class MagentoRequestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Magento refused the token (HTTP 401/403): Retry::no, as every other request would be refused
// too. Its own type so that prepare() can leave the message on the SKUs of the first push.
class MagentoTokenRefused : public StoreError {
 public:
  explicit MagentoTokenRefused(const std::string& message) : StoreError(message, Retry::no) {}
};

class MagentoApi {
 public:
  // `root` is the path of /rest/{store_code}/V1 on the session's origin.
  MagentoApi(std::shared_ptr<net::HttpSession> session, std::string root, std::string token);

  // `resource` is relative to the root ("products"); `query` is already url-encoded, without
  // '?'. Both retry connection failures, timeouts, 429 and 5xx (waiting out Retry-After) within
  // a budget, then throw MagentoRequestError; a 401/403 throws MagentoTokenRefused; any other
  // status is returned.
  boost::asio::awaitable<MagentoReply> get(const std::string& resource, const std::string& query);
  boost::asio::awaitable<MagentoReply> post(const std::string& resource,
                                            const std::string& json_body);

  // `text` with the token blanked out: for anything the store says that reaches a message.
  std::string redact(std::string text) const;

 private:
  boost::asio::awaitable<MagentoReply> exchange(net::Request request, std::string what);

  std::shared_ptr<net::HttpSession> session_;
  std::string root_;
  std::string token_;
};

}  // namespace pb::connectors
