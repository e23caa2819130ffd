// A small defensive HTTP/1.1 server on the event loop, over TCP or TLS: GET and HEAD on a
// fixed set of paths, and any method under a prefix whose handler checks it (the JSON API). Limits
// on header and body size, a deadline for each request from its first byte, an idle timeout between
// keep-alive requests, a cap on connections: a slow or hostile client costs a socket and a timer,
// never the loop or the control socket.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace pb::web {

struct Reply {
  Reply() = default;
  Reply(unsigned s, std::string type, std::string text, std::string cache = "no-store")
      : status(s),
        content_type(std::move(type)),
        body(std::move(text)),
        cache_control(std::move(cache)) {}

  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string cache_control = "no-store";
  std::vector<std::pair<std::string, std::string>> headers;  // more: Allow, WWW-Authenticate
};

// What a prefix route's handler is told of a request (a body is read within the limit but not
// passed on: no call takes one).
struct Request {
  std::string method;         // as sent: "GET", "POST"
  std::string path;           // the target up to '?', still percent-encoded
  std::string query;          // after '?', still percent-encoded; empty without one
  std::string authorization;  // the Authorization header; empty without one
};

// Produces a path's reply; work that takes longer than a few microseconds belongs on the pool
// (the handler awaits it), as the loop also serves the control socket and the runs.
using Handler = std::function<boost::asio::awaitable<Reply>()>;
// A prefix route's handler: it answers every method, 405 included. The request outlives the
// awaitable it returns.
using RequestHandler = std::function<boost::asio::awaitable<Reply>(const Request&)>;

// Sent with every reply: nothing of beed's may be framed, sniffed, or leak its URL onwards, and
// a page may run only the scripts and styles beed itself serves (no inline script).
inline constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

struct ServerOptions {
  std::string host = "127.0.0.1";       // an IP literal
  std::uint16_t port = 0;               // 0: any free port (tests)
  std::filesystem::path tls_cert_file;  // both set: HTTPS only
  std::filesystem::path tls_key_file;
  std::size_t max_header_bytes = 8 * 1024;            // request line and headers; more: 431
  std::size_t max_body_bytes = 64 * 1024;             // more: 413
  std::chrono::milliseconds request_timeout{10'000};  // a whole request (TLS handshake too)
  std::chrono::milliseconds idle_timeout{30'000};     // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};    // a whole response
  std::size_t max_connections = 32;                   // more are closed at once after accept
};

class HttpServer {
 public:
  HttpServer(boost::asio::any_io_executor loop, ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves `path` (exact; a query string is ignored) for GET and HEAD. Before start().
  void route(std::string path, Handler handler);
  // Serves every path that starts with `prefix` and has no exact route, for any method (the
  // first prefix added that matches).
  void route_prefix(std::string prefix, RequestHandler handler);

  // Binds and listens. Throws std::runtime_error naming the address (in use, no permission)
  // or the TLS file that could not be loaded.
  void start();
  // Closes the listener and every open connection; their coroutines end soon after.
  void stop();

  std::uint16_t port() const;       // the bound port, after start()
  std::size_t connections() const;  // open now
  std::string describe() const;     // "http://127.0.0.1:10025"

  struct State;  // the listener and open connections, shared with their coroutines

 private:
  std::shared_ptr<State> state_;
};

}  // namespace pb::web
