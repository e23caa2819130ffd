// HTTP/1.1 over TCP or TLS to one origin, on the Asio loop (Beast + OpenSSL).
// One call of send() is one attempt: retries are retry.hpp's job, so that each
// connector decides what in a response is worth another try.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "net/url.hpp"

namespace pb::net {

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method = "GET";
  std::string target;           // path and query, starting with '/'
  std::vector<Header> headers;  // Host, User-Agent, Content-Length are added by the session
  std::string body;
};

struct Response {
  unsigned status = 0;
  std::vector<Header> headers;
  std::string body;

  // The first header of that name (case-insensitive), or null.
  const std::string* header(std::string_view name) const;
};

// Why an exchange produced no response.
enum class FailureKind {
  resolve,     // the host name did not resolve
  connect,     // refused, unreachable, or the connect deadline passed (resolve, TCP or TLS)
  tls,         // handshake failed for a reason other than the certificate
  tls_verify,  // the certificate chain or host name did not verify: never retried
  timeout,     // no complete response within the request deadline
  dropped,     // the peer closed or reset the connection mid-exchange
  too_large,   // the response exceeded ClientOptions::max_response_bytes: never retried
  protocol,    // not HTTP/1.x
};

std::string_view to_string(FailureKind kind);

class TransportError : public std::runtime_error {
 public:
  TransportError(FailureKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  FailureKind kind() const { return kind_; }
  // Worth another attempt: everything but a certificate that does not verify and a
  // response over the cap (both would fail again the same way).
  bool retryable() const {
    return kind_ != FailureKind::tls_verify && kind_ != FailureKind::too_large;
  }

 private:
  FailureKind kind_;
};

struct ClientOptions {
  // Extra trust anchors (PEM) on top of the system store; for private CAs and tests.
  std::filesystem::path ca_file;
  std::chrono::milliseconds connect_timeout{10'000};  // resolve + TCP + TLS handshake
  std::chrono::milliseconds request_timeout{60'000};  // write the request, read the whole response
  std::size_t max_in_flight = 4;                      // concurrent exchanges; more wait their turn
  std::size_t max_response_bytes = std::size_t{64} << 20;
  std::string user_agent;  // empty: "PackageBee/<version>"
};

class HttpSession {
 public:
  virtual ~HttpSession() = default;

  // One exchange. Reuses an idle keep-alive connection when there is one (a
  // reused connection found closed by the server is reopened once, transparently,
  // since nothing was sent on it), else opens one; waits while max_in_flight
  // exchanges are under way. Any HTTP status is a Response; throws TransportError.
  // Safe to call concurrently from coroutines on the session's executor.
  // Also throws std::invalid_argument, before sending, for a request that would
  // not serialise as meant (a method or header name that is not a token, a control
  // character in a header value, a target not starting with '/'), and
  // boost::system::system_error(operation_aborted) when the caller cancels it
  // (not a TransportError, so never retried). The session stays alive while a
  // send() runs, even if the caller drops its shared_ptr.
  virtual boost::asio::awaitable<Response> send(Request request) = 0;

  // "https://shop.example.com": for messages. Never includes credentials.
  virtual std::string origin() const = 0;

  // A session to `other` (its scheme, host and port) with this one's options (trust
  // anchors, timeouts, response cap): for a redirect there. Throws std::invalid_argument
  // as make_http_session does (plain http to a host that is not loopback); the default,
  // for sessions that cannot make others, throws it always.
  virtual std::shared_ptr<HttpSession> for_origin(const Url& other) const;
};

// Throws std::invalid_argument for a plain-http URL that is not loopback (or
// max_in_flight == 0), and std::runtime_error when `ca_file` cannot be loaded
// (the message names it). Connections use `io`; nothing runs on another thread
// but Asio's own resolver thread, for host names that are not IP literals.
std::shared_ptr<HttpSession> make_http_session(boost::asio::any_io_executor io, const Url& origin,
                                               ClientOptions options);

}  // namespace pb::net
