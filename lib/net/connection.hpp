// One HTTP/1.1 connection to a session's origin, over TCP or TLS: opening it
// within the connect deadline, and one request/response exchange at a time
// within the request deadline. The pool and the limits are the session's job
// (pooled_session.hpp); Beast stays in connection.cpp.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "net/http_session.hpp"
#include "net/url.hpp"

namespace boost::asio::ssl {
class context;
}

namespace pb::net::detail {

// What every connection of a session shares.
struct Endpoint {
  Url url;
  std::string origin;  // url.origin(), for messages
  std::string user_agent;
  ClientOptions options;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null for plain http
};

class Connection {
 public:
  virtual ~Connection() = default;

  // Resolves, connects and (for https) handshakes and verifies the peer, all
  // within options.connect_timeout. Throws TransportError.
  static boost::asio::awaitable<std::unique_ptr<Connection>> open(
      boost::asio::any_io_executor io, std::shared_ptr<const Endpoint> endpoint);

  // Writes `request` and reads the whole response, within options.request_timeout.
  // Throws TransportError; the connection is unusable afterwards.
  virtual boost::asio::awaitable<Response> exchange(const Request& request) = 0;

  // After exchange() threw: the failure came before any byte of a response and
  // after no more than a partial request, so the server cannot have acted on it
  // (the write failed, or the peer closed or reset the connection without
  // answering). Only then may a reused connection's request go out again.
  virtual bool failed_unanswered() const = 0;

  // After a complete exchange: both sides keep the connection open (HTTP/1.1
  // without "Connection: close", a response not delimited by closing, nothing
  // extra in the buffer).
  virtual bool reusable() const = 0;

  // For an idle connection: the server has closed it (or sent something unasked,
  // such as a TLS close_notify), so it must not be reused. Does not block.
  virtual bool closed_by_peer() = 0;
};

}  // namespace pb::net::detail
