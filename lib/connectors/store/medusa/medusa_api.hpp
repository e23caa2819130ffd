// The Medusa v2 Admin API as the connector speaks it: the secret API key as HTTP Basic, retries
// with backoff and Retry-After, and what a status means (a refused key ends the run; a refusal
// of the items sent is handed back to the caller, who isolates the item it is about).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "connectors/store/store.hpp"
#include "net/http_session.hpp"

namespace pb::connectors::medusa {

// An answer the caller reads: a 2xx with its parsed JSON body, or a refusal (is_refusal) with the
// response kept for describe_error / route_missing.
struct Reply {
  unsigned status = 0;
  boost::json::value body;  // parsed, for a 2xx
  net::Response response;   // the raw answer, for a refusal
  bool ok() const { return status >= 200 && status < 300; }
};

// A request got no usable answer: retries ran out, a failure no retry mends (a certificate that
// does not verify), or a status that is neither success nor refusal. Safe to show: it names the
// request, never the key.
class RequestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The server refused the key (HTTP 401/403): Retry::no, every other request would fail alike.
class KeyRefused : public StoreError {
 public:
  explicit KeyRefused(const std::string& message) : StoreError(message, Retry::no) {}
};

class Api {
 public:
  // `root` is the server's path prefix ("" or "/shop" for a server behind a path).
  Api(std::shared_ptr<net::HttpSession> session, std::string root, std::string api_key);

  // `path` starts with "/admin/"; `query` is url-encoded, without '?'. Throw RequestError,
  // KeyRefused, and StoreError (Retry::no) when the server asks to come back later than the
  // retry budget allows.
  boost::asio::awaitable<Reply> get(const std::string& path, const std::string& query);
  boost::asio::awaitable<Reply> post(const std::string& path, const std::string& json_body);

  // `text` with the key blanked out: for anything the server says that ends up in a message.
  std::string redact(std::string text) const;

 private:
  boost::asio::awaitable<Reply> exchange(net::Request request, std::string what);

  std::shared_ptr<net::HttpSession> session_;
  std::string root_;
  std::string api_key_;
  std::string authorization_;
};

}  // namespace pb::connectors::medusa
