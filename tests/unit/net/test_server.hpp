// An in-process HTTP/1.1 server for lib/net's tests: plain Asio sockets (and
// Asio's OpenSSL stream for https), a script deciding each reply, and counts of
// what it saw (connections, requests, exchanges under way at once).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "net/http_session.hpp"

namespace pb::test {

struct SeenRequest {
  std::string method;
  std::string target;
  std::vector<net::Header> headers;
  std::string body;
  int connection = 0;  // 1 for the first connection accepted, ...
  const std::string* header(std::string_view name) const;
};

struct Reply {
  std::string raw;                     // written as is (see http_reply)
  std::chrono::milliseconds delay{0};  // before writing
  bool close = false;                  // close the connection after writing (or instead)
  bool hang = false;                   // never answer; wait for the client to go away
};

// "HTTP/1.1 <status> X\r\n<headers>Content-Length: N\r\n\r\n<body>".
std::string http_reply(unsigned status, const std::string& body = {},
                       const std::vector<net::Header>& headers = {});

class TestServer {
 public:
  using Script = std::function<Reply(const SeenRequest&)>;
  struct Tls {
    std::filesystem::path cert;
    std::filesystem::path key;
  };

  TestServer(boost::asio::io_context& io, Script script, std::optional<Tls> tls = std::nullopt,
             const std::string& address = "127.0.0.1");
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::uint16_t port() const { return port_; }
  // Stops accepting and closes every connection, so that io_context::run() returns.
  void stop();

  int connections() const { return connections_; }
  int failed_handshakes() const { return failed_handshakes_; }
  int max_concurrent() const { return max_concurrent_; }
  const std::vector<SeenRequest>& requests() const { return requests_; }

 private:
  boost::asio::awaitable<void> accept_loop();
  template <class Stream>
  boost::asio::awaitable<void> serve(std::shared_ptr<Stream> stream, int connection);

  boost::asio::io_context& io_;
  Script script_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::vector<std::function<void()>> closers_;
  int connections_ = 0;
  int failed_handshakes_ = 0;
  int in_flight_ = 0;
  int max_concurrent_ = 0;
  std::vector<SeenRequest> requests_;
};

// Runs `body` on `io` until it ends, then stops `servers` and lets the loop drain.
// Fails the test if that takes over `limit`; rethrows what `body` threw.
void run(boost::asio::io_context& io, std::function<boost::asio::awaitable<void>()> body,
         std::initializer_list<TestServer*> servers = {},
         std::chrono::seconds limit = std::chrono::seconds(8));

// The test CA and certificates of tests/emulators/make_test_ca.sh (made once a day).
const std::filesystem::path& test_certificates();

// A loopback port nobody listens on (bound, then released).
std::uint16_t closed_port();

}  // namespace pb::test
