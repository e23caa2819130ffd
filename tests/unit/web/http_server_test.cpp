// HttpServer against raw clients: routing, methods, keep-alive, and the limits that keep a slow
// or hostile client from costing more than a socket (431, deadlines, the connection cap).
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "web/http_server.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// A server on 127.0.0.1 (any port) running on its own thread for the test's length.
class Running {
 public:
  explicit Running(pb::web::ServerOptions options = {}) : server_(io_.get_executor(), options) {
    server_.route("/metrics", []() -> asio::awaitable<pb::web::Reply> {
      co_return pb::web::Reply{200, "text/plain; version=0.0.4", "up 1\n"};
    });
    // Echoes what a prefix route is told of the request.
    server_.route_prefix("/api/", [](const pb::web::Request& r) -> asio::awaitable<pb::web::Reply> {
      pb::web::Reply reply(201, "text/plain",
                           r.method + "|" + r.path + "|" + r.query + "|" + r.authorization);
      reply.headers.emplace_back("X-Extra", "1");
      co_return reply;
    });
    server_.start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Running() {
    asio::post(io_, [this] { server_.stop(); });
    thread_.join();
  }
  std::uint16_t port() const { return server_.port(); }

 private:
  asio::io_context io_;
  pb::web::HttpServer server_;
  std::thread thread_;
};

tcp::socket connect(std::uint16_t port) {
  static asio::io_context client_io;
  tcp::socket socket(client_io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  return socket;
}

// Everything the server sends until it closes the connection (or `limit` passes).
std::string read_until_close(tcp::socket& socket, std::chrono::milliseconds limit = 5s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  std::string out;
  socket.non_blocking(true);
  char buffer[4096];
  while (std::chrono::steady_clock::now() < until) {
    boost::system::error_code ec;
    const auto n = socket.read_some(asio::buffer(buffer), ec);
    if (ec == asio::error::would_block) {
      std::this_thread::sleep_for(5ms);
      continue;
    }
    if (ec) return out;
    out.append(buffer, n);
  }
  return out + "<still open>";
}

std::string exchange(std::uint16_t port, const std::string& request) {
  auto socket = connect(port);
  asio::write(socket, asio::buffer(request));
  return read_until_close(socket);
}

}  // namespace

TEST_CASE("GET and HEAD of a route, 404 and 405 otherwise") {
  Running server;
  const auto get = exchange(
      server.port(), "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  CHECK(get.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(get.find("Content-Type: text/plain; version=0.0.4\r\n") != std::string::npos);
  CHECK(get.find("Content-Length: 5\r\n") != std::string::npos);
  CHECK(get.find("Cache-Control: no-store\r\n") != std::string::npos);
  CHECK(get.ends_with("\r\n\r\nup 1\n"));

  const auto query = exchange(server.port(), "GET /metrics?x=1 HTTP/1.0\r\n\r\n");
  CHECK(query.starts_with("HTTP/1.0 200 OK\r\n"));

  const auto head = exchange(
      server.port(), "HEAD /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  CHECK(head.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(head.find("Content-Length: 5\r\n") != std::string::npos);
  CHECK(head.ends_with("\r\n\r\n"));

  const auto post = exchange(server.port(),
                             "POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n"
                             "Connection: close\r\n\r\nhi");
  CHECK(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
  CHECK(post.find("Allow: GET, HEAD\r\n") != std::string::npos);

  const auto missing =
      exchange(server.port(), "GET /nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  CHECK(missing.starts_with("HTTP/1.1 404 Not Found\r\n"));

  const auto garbage = exchange(server.port(), "HELLO\r\n\r\n");
  CHECK(garbage.starts_with("HTTP/1.1 400 Bad Request\r\n"));
}

TEST_CASE("keep-alive: two requests on one connection") {
  Running server;
  auto socket = connect(server.port());
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n";
  asio::write(socket, asio::buffer(request + request));
  const auto both = read_until_close(socket, 500ms);
  CHECK(both.ends_with("<still open>"));
  std::size_t responses = 0;
  for (auto at = both.find("HTTP/1.1 200 OK"); at != std::string::npos;
       at = both.find("HTTP/1.1 200 OK", at + 1))
    ++responses;
  CHECK(responses == 2);
}

TEST_CASE("an oversized header is refused with 431, an oversized body with 413") {
  Running server;
  const auto big = exchange(server.port(), "GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Big: " +
                                               std::string(20000, 'a') + "\r\n\r\n");
  CHECK(big.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));

  const auto body = exchange(
      server.port(), "GET /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n" +
                         std::string(70000, 'b'));
  CHECK(body.starts_with("HTTP/1.1 413 Payload Too Large\r\n"));
}

TEST_CASE("a client too slow with its request is disconnected while others are served") {
  pb::web::ServerOptions options;
  options.request_timeout = 300ms;
  Running server(options);
  auto slow = connect(server.port());
  asio::write(slow, asio::buffer(std::string("GET /metrics HTTP/1.1\r\nHost: localhost\r\n")));
  // The loop is not held up by the slow one.
  const auto other = exchange(server.port(), "GET /metrics HTTP/1.0\r\n\r\n");
  CHECK(other.starts_with("HTTP/1.0 200 OK\r\n"));
  const auto start = std::chrono::steady_clock::now();
  CHECK(read_until_close(slow, 3s).empty());  // closed without an answer
  CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("an idle keep-alive connection is closed after the idle timeout") {
  pb::web::ServerOptions options;
  options.idle_timeout = 200ms;
  Running server(options);
  auto socket = connect(server.port());
  asio::write(socket,
              asio::buffer(std::string("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")));
  const auto reply = read_until_close(socket, 3s);
  CHECK(reply.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK_FALSE(reply.ends_with("<still open>"));
}

TEST_CASE("connections over the cap are closed at once") {
  pb::web::ServerOptions options;
  options.max_connections = 2;
  Running server(options);
  auto first = connect(server.port());
  auto second = connect(server.port());
  std::this_thread::sleep_for(100ms);  // both accepted
  auto third = connect(server.port());
  CHECK(read_until_close(third, 2s).empty());
  first.close();
  std::this_thread::sleep_for(100ms);
  const auto after = exchange(server.port(), "GET /metrics HTTP/1.0\r\n\r\n");
  CHECK(after.starts_with("HTTP/1.0 200 OK\r\n"));
}

TEST_CASE("start() names the address it cannot listen on") {
  asio::io_context io;
  pb::web::HttpServer first(io.get_executor(), {});
  first.start();
  pb::web::ServerOptions options;
  options.port = first.port();
  pb::web::HttpServer second(io.get_executor(), options);
  CHECK_THROWS_WITH(second.start(), doctest::Contains("cannot listen on http://127.0.0.1:"));
}

TEST_CASE("a prefix route sees method, path, query and Authorization, and its headers are sent") {
  Running server;
  const auto post =
      exchange(server.port(),
               "POST /api/v1/x?a=1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer t\r\n"
               "Content-Length: 0\r\nConnection: close\r\n\r\n");
  CHECK(post.starts_with("HTTP/1.1 201 Created\r\n"));
  CHECK(post.find("X-Extra: 1\r\n") != std::string::npos);
  CHECK(post.ends_with("\r\n\r\nPOST|/api/v1/x|a=1|Bearer t"));
  const auto get =
      exchange(server.port(), "GET /api/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  CHECK(get.ends_with("\r\n\r\nGET|/api/||"));
  // A path outside the prefix is not the prefix route's.
  const auto other =
      exchange(server.port(), "GET /apix HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  CHECK(other.starts_with("HTTP/1.1 404 Not Found\r\n"));
}

TEST_CASE("every reply carries the security headers, errors included") {
  Running server;
  for (const auto* request :
       {"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /api/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"}) {
    const auto reply = exchange(server.port(), request);
    CHECK(reply.find("Content-Security-Policy: default-src 'self'") != std::string::npos);
    CHECK(reply.find("X-Content-Type-Options: nosniff\r\n") != std::string::npos);
    CHECK(reply.find("X-Frame-Options: DENY\r\n") != std::string::npos);
    CHECK(reply.find("Referrer-Policy: no-referrer\r\n") != std::string::npos);
  }
}

TEST_CASE("on loopback, a Host that is not a loopback name is refused (DNS rebinding)") {
  Running server;
  const auto foreign = exchange(
      server.port(), "GET /metrics HTTP/1.1\r\nHost: rebind.example\r\nConnection: close\r\n\r\n");
  CHECK(foreign.starts_with("HTTP/1.1 421 Misdirected Request\r\n"));
  const auto api = exchange(
      server.port(), "GET /api/x HTTP/1.1\r\nHost: rebind.example:1\r\nConnection: close\r\n\r\n");
  CHECK(api.starts_with("HTTP/1.1 421 Misdirected Request\r\n"));
  const auto local = exchange(
      server.port(), "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9\r\nConnection: close\r\n\r\n");
  CHECK(local.starts_with("HTTP/1.1 200 OK\r\n"));
}
