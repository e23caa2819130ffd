// HttpSession over https: certificates from tests/emulators/make_test_ca.sh, made
// once per run. A certificate that does not verify must fail as tls_verify, with
// OpenSSL's reason in the message.
#include <chrono>
#include <optional>
#include <string>

#include <doctest/doctest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "net/http_session.hpp"
#include "test_server.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using pb::net::ClientOptions;
using pb::net::FailureKind;
using pb::net::Request;
using pb::net::TransportError;
using pb::test::http_reply;
using pb::test::Reply;
using pb::test::run;
using pb::test::SeenRequest;
using pb::test::TestServer;

TestServer::Tls certificate(const std::string& name) {
  const auto& dir = pb::test::test_certificates();
  return {dir / (name + ".pem"), dir / (name + ".key")};
}

ClientOptions trusting_test_ca() {
  ClientOptions options;
  options.ca_file = pb::test::test_certificates() / "ca.pem";
  return options;
}

Reply ok(const SeenRequest&) {
  return {http_reply(200, "secure")};
}

std::shared_ptr<pb::net::HttpSession> session_for(asio::io_context& io, const std::string& origin,
                                                  ClientOptions options = trusting_test_ca()) {
  return pb::net::make_http_session(io.get_executor(), pb::net::Url::parse(origin),
                                    std::move(options));
}

// The TransportError a GET of "/" fails with.
TransportError failure_of(asio::io_context& io, TestServer& server, pb::net::HttpSession& session) {
  std::optional<TransportError> error;
  run(io,
      [&]() -> asio::awaitable<void> {
        try {
          Request request;
          request.target = "/";
          co_await session.send(std::move(request));
        } catch (const TransportError& e) {
          error = e;
        }
      },
      {&server});
  REQUIRE_MESSAGE(error, "the request did not fail");
  return *error;
}

}  // namespace

TEST_CASE("https with the test CA: verified, kept alive, by name and by address") {
  asio::io_context io;
  TestServer server(io, ok, certificate("server"));
  const auto port = std::to_string(server.port());
  // "localhost" goes through the resolver and sends SNI; the address does neither.
  auto by_name = session_for(io, "https://localhost:" + port);
  auto by_address = session_for(io, "https://127.0.0.1:" + port);
  run(io,
      [&]() -> asio::awaitable<void> {
        for (auto* session : {by_name.get(), by_name.get(), by_address.get()}) {
          Request request;
          request.target = "/";
          const auto response = co_await session->send(std::move(request));
          CHECK(response.status == 200);
          CHECK(response.body == "secure");
        }
      },
      {&server});
  CHECK(server.connections() == 2);
  CHECK(server.requests().size() == 3);
  CHECK(server.failed_handshakes() == 0);
}

TEST_CASE("an expired certificate fails verification") {
  asio::io_context io;
  TestServer server(io, ok, certificate("expired"));
  const auto origin = "https://127.0.0.1:" + std::to_string(server.port());
  auto session = session_for(io, origin);
  const auto error = failure_of(io, server, *session);
  CHECK(error.kind() == FailureKind::tls_verify);
  CHECK_FALSE(error.retryable());
  CHECK(std::string(error.what()) ==
        origin + ": TLS certificate verify failed: certificate has expired");
  CHECK(server.requests().empty());
}

TEST_CASE("a certificate from an unknown CA fails verification") {
  asio::io_context io;
  TestServer server(io, ok, certificate("wrong-ca"));
  const auto origin = "https://localhost:" + std::to_string(server.port());
  auto session = session_for(io, origin);
  const auto error = failure_of(io, server, *session);
  CHECK(error.kind() == FailureKind::tls_verify);
  CHECK(std::string(error.what()) ==
        origin + ": TLS certificate verify failed: unable to get local issuer certificate");
}

TEST_CASE("without the test CA, the system store does not vouch for the test certificate") {
  asio::io_context io;
  TestServer server(io, ok, certificate("server"));
  const auto origin = "https://127.0.0.1:" + std::to_string(server.port());
  auto session = session_for(io, origin, ClientOptions{});
  const auto error = failure_of(io, server, *session);
  CHECK(error.kind() == FailureKind::tls_verify);
  CHECK(std::string(error.what()).rfind(origin + ": TLS certificate verify failed: ", 0) == 0);
}

TEST_CASE("a certificate for another name fails verification") {
  asio::io_context io;
  // 127.0.0.2 is loopback too, but the certificate names only localhost, 127.0.0.1 and ::1.
  TestServer server(io, ok, certificate("server"), "127.0.0.2");
  const auto origin = "https://127.0.0.2:" + std::to_string(server.port());
  auto session = session_for(io, origin);
  const auto error = failure_of(io, server, *session);
  CHECK(error.kind() == FailureKind::tls_verify);
  CHECK(std::string(error.what()) ==
        origin + ": TLS certificate verify failed: IP address mismatch");
}

TEST_CASE("a handshake that gets no answer times out within connect_timeout") {
  asio::io_context io;
  // A plain server waits for "\r\n\r\n", which a ClientHello does not hold.
  TestServer server(io, ok);
  const auto origin = "https://127.0.0.1:" + std::to_string(server.port());
  ClientOptions options = trusting_test_ca();
  options.connect_timeout = 300ms;
  auto session = session_for(io, origin, options);
  const auto error = failure_of(io, server, *session);
  CHECK(error.kind() == FailureKind::connect);
  CHECK(std::string(error.what()) ==
        origin + ": timed out in the TLS handshake (connect timeout 300 ms)");
}

TEST_CASE("a handshake answered with something else than TLS is a tls failure") {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto origin = "https://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  auto session = session_for(io, origin);
  auto answer_in_clear = [&]() -> asio::awaitable<void> {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    const std::string reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(reply), asio::use_awaitable);
  };
  asio::co_spawn(io, answer_in_clear, asio::detached);
  run(io, [&]() -> asio::awaitable<void> {
    try {
      Request request;
      request.target = "/";
      co_await session->send(std::move(request));
      FAIL("no exception");
    } catch (const TransportError& e) {
      CHECK(e.kind() == FailureKind::tls);
      CHECK(e.retryable());
      CHECK(std::string(e.what()).rfind(origin + ": TLS handshake failed: ", 0) == 0);
    }
  });
}
