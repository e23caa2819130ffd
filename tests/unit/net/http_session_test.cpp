// HttpSession over plain http against the in-process test server: requests as
// sent, keep-alive, the in-flight limit, and each way an exchange can fail.
#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/http_session.hpp"
#include "test_server.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using pb::net::ClientOptions;
using pb::net::FailureKind;
using pb::net::Request;
using pb::net::Response;
using pb::net::TransportError;
using pb::test::http_reply;
using pb::test::Reply;
using pb::test::run;
using pb::test::SeenRequest;
using pb::test::TestServer;
using Clock = std::chrono::steady_clock;

std::shared_ptr<pb::net::HttpSession> session_for(asio::io_context& io, std::uint16_t port,
                                                  ClientOptions options = {}) {
  const auto url = pb::net::Url::parse("http://127.0.0.1:" + std::to_string(port));
  return pb::net::make_http_session(io.get_executor(), url, std::move(options));
}

// "/<n>" (appended: g++ 12 at -O3 misreads `"/" + std::to_string(n)` under -Wrestrict).
std::string numbered(std::size_t n) {
  std::string target = "/";
  target += std::to_string(n);
  return target;
}

Request get(std::string target) {
  Request request;
  request.target = std::move(target);
  return request;
}

// Sends `request` and returns the TransportError it fails with (failing the test if it does not).
asio::awaitable<TransportError> failure_of(pb::net::HttpSession& session, Request request) {
  try {
    co_await session.send(std::move(request));
  } catch (const TransportError& e) {
    co_return e;
  }
  FAIL("the request did not fail");
  co_return TransportError(FailureKind::protocol, "unreachable");
}

Reply ok(const SeenRequest&) {
  return {http_reply(200, "ok")};
}

}  // namespace

TEST_CASE("a POST goes out with our headers and its body, and the response comes back") {
  asio::io_context io;
  TestServer server(io, [](const SeenRequest&) {
    return Reply{http_reply(201, "created", {{"X-Thing", "42"}})};
  });
  auto session = session_for(io, server.port());
  Response response;
  run(io,
      [&]() -> asio::awaitable<void> {
        Request request;
        request.method = "POST";
        request.target = "/items?sku=a%20b";
        request.headers = {{"Authorization", "Bearer secret"}, {"Content-Type", "text/plain"}};
        request.body = "hello";
        response = co_await session->send(std::move(request));
      },
      {&server});

  REQUIRE(server.requests().size() == 1);
  const auto& seen = server.requests()[0];
  CHECK(seen.method == "POST");
  CHECK(seen.target == "/items?sku=a%20b");
  CHECK(seen.body == "hello");
  REQUIRE(seen.header("Host"));
  CHECK(*seen.header("Host") == "127.0.0.1:" + std::to_string(server.port()));
  REQUIRE(seen.header("User-Agent"));
  CHECK(*seen.header("User-Agent") == "PackageBee/" PACKAGEBEE_VERSION);
  REQUIRE(seen.header("Content-Length"));
  CHECK(*seen.header("Content-Length") == "5");
  REQUIRE(seen.header("Authorization"));
  CHECK(*seen.header("Authorization") == "Bearer secret");
  CHECK(seen.header("Accept-Encoding") == nullptr);
  CHECK(response.status == 201);
  CHECK(response.body == "created");
  REQUIRE(response.header("x-thing"));
  CHECK(*response.header("x-thing") == "42");
  CHECK(session->origin() == "http://127.0.0.1:" + std::to_string(server.port()));
}

TEST_CASE("a GET carries no body, and a caller's User-Agent wins") {
  asio::io_context io;
  TestServer server(io, ok);
  ClientOptions options;
  options.user_agent = "Custom/1";
  auto session = session_for(io, server.port(), options);
  run(io,
      [&]() -> asio::awaitable<void> {
        auto request = get("/");
        request.headers = {{"user-agent", "Caller/2"}, {"Host", "evil.example"}};
        const auto response = co_await session->send(std::move(request));
        CHECK(response.body == "ok");
      },
      {&server});
  REQUIRE(server.requests().size() == 1);
  const auto& seen = server.requests()[0];
  CHECK(seen.method == "GET");
  CHECK(seen.body.empty());
  CHECK(*seen.header("User-Agent") == "Caller/2");
  CHECK(*seen.header("Host") == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(std::count_if(seen.headers.begin(), seen.headers.end(),
                      [](const auto& h) { return h.name == "Host" || h.name == "host"; }) == 1);
}

TEST_CASE("sequential requests reuse one kept-alive connection") {
  asio::io_context io;
  TestServer server(io, ok);
  auto session = session_for(io, server.port());
  run(io,
      [&]() -> asio::awaitable<void> {
        for (std::size_t i = 0; i < 3; ++i) {
          auto request = get(numbered(i));
          const auto response = co_await session->send(std::move(request));
          CHECK(response.status == 200);
        }
      },
      {&server});
  CHECK(server.requests().size() == 3);
  CHECK(server.connections() == 1);
}

TEST_CASE("a HEAD response's Content-Length is not waited for, and the connection stays usable") {
  asio::io_context io;
  TestServer server(io, [](const SeenRequest& request) {
    if (request.method == "HEAD") return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"};
    return Reply{http_reply(200, "0123456789")};
  });
  auto session = session_for(io, server.port());
  run(io,
      [&]() -> asio::awaitable<void> {
        auto head = get("/");
        head.method = "HEAD";
        const auto first = co_await session->send(std::move(head));
        CHECK(first.status == 200);
        CHECK(first.body.empty());
        auto again = get("/");
        const auto second = co_await session->send(std::move(again));
        CHECK(second.body == "0123456789");
      },
      {&server});
  CHECK(server.connections() == 1);
}

TEST_CASE("Connection: close and HTTP/1.0 responses are not reused") {
  asio::io_context io;
  TestServer server(io, [](const SeenRequest& request) {
    if (request.target == "/close")
      return Reply{http_reply(200, "ok", {{"Connection", "close"}}), 0ms, true};
    // HTTP/1.0 without keep-alive: the server may close at any time, even though this one does not.
    return Reply{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"};
  });
  auto session = session_for(io, server.port());
  run(io,
      [&]() -> asio::awaitable<void> {
        for (const char* target : {"/close", "/old", "/old"}) {
          auto request = get(target);
          const auto response = co_await session->send(std::move(request));
          CHECK(response.body == "ok");
        }
      },
      {&server});
  CHECK(server.requests().size() == 3);
  CHECK(server.connections() == 3);
}

TEST_CASE("an idle connection the server closed is not reused") {
  asio::io_context io;
  // Closes after every response without saying so beforehand, as a keep-alive timeout does.
  TestServer server(io, [](const SeenRequest&) { return Reply{http_reply(200, "ok"), 0ms, true}; });
  auto session = session_for(io, server.port());
  run(io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i) {
          auto request = get("/");
          const auto response = co_await session->send(std::move(request));
          CHECK(response.status == 200);
        }
      },
      {&server});
  CHECK(server.requests().size() == 3);
  CHECK(server.connections() == 3);
}

TEST_CASE("a reused connection closed before any answer is retried once on a new connection") {
  asio::io_context io;
  int answered = 0;
  TestServer server(io, [&](const SeenRequest& request) {
    // The second request arrives on the kept-alive first connection: drop it unanswered.
    if (request.connection == 1 && answered == 1) return Reply{"", 0ms, true};
    ++answered;
    return Reply{http_reply(200, "ok")};
  });
  auto session = session_for(io, server.port());
  run(io,
      [&]() -> asio::awaitable<void> {
        auto post = get("/a");
        post.method = "POST";
        post.body = "x";
        CHECK((co_await session->send(post)).status == 200);
        CHECK((co_await session->send(post)).status == 200);
      },
      {&server});
  REQUIRE(server.requests().size() == 3);
  CHECK(server.connections() == 2);
  CHECK(server.requests()[1].connection == 1);
  CHECK(server.requests()[2].connection == 2);
}

TEST_CASE("a new connection closed before any answer is not retried") {
  asio::io_context io;
  TestServer server(io, [](const SeenRequest&) { return Reply{"", 0ms, true}; });
  auto session = session_for(io, server.port());
  run(io,
      [&]() -> asio::awaitable<void> {
        auto request = get("/");
        const auto error = co_await failure_of(*session, std::move(request));
        CHECK(error.kind() == FailureKind::dropped);
        CHECK(std::string(error.what()) ==
              session->origin() + ": the server closed the connection without responding");
      },
      {&server});
  CHECK(server.requests().size() == 1);
  CHECK(server.connections() == 1);
}

TEST_CASE("no more than max_in_flight exchanges at once, and the others wait in order") {
  asio::io_context io;
  TestServer server(io, [](const SeenRequest&) { return Reply{http_reply(200, "ok"), 50ms}; });
  ClientOptions options;
  options.max_in_flight = 2;
  auto session = session_for(io, server.port(), options);
  int done = 0;
  const auto start = Clock::now();
  run(io,
      [&]() -> asio::awaitable<void> {
        auto executor = co_await asio::this_coro::executor;
        for (std::size_t i = 0; i < 6; ++i) {
          auto one = [&, i]() -> asio::awaitable<void> {
            auto request = get(numbered(i));
            const auto response = co_await session->send(std::move(request));
            CHECK(response.status == 200);
            ++done;
          };
          asio::co_spawn(executor, one, asio::detached);
        }
        asio::steady_timer wait(executor);
        while (done < 6) {
          wait.expires_after(10ms);
          co_await wait.async_wait(asio::use_awaitable);
        }
      },
      {&server});
  CHECK(done == 6);
  CHECK(server.max_concurrent() == 2);
  CHECK(server.connections() == 2);
  CHECK(Clock::now() - start >= 150ms);  // three rounds of 50 ms
  REQUIRE(server.requests().size() == 6);
  // Fair: the waiters got their turn in the order they asked.
  for (std::size_t round = 0; round < 3; ++round) {
    const std::set<std::string> seen = {server.requests()[2 * round].target,
                                        server.requests()[2 * round + 1].target};
    const std::set<std::string> expected = {numbered(2 * round), numbered(2 * round + 1)};
    CHECK(seen == expected);
  }
}

TEST_CASE("a refused connection is a connect failure naming the origin") {
  asio::io_context io;
  const auto port = pb::test::closed_port();
  auto session = session_for(io, port);
  run(io, [&]() -> asio::awaitable<void> {
    auto request = get("/");
    const auto error = co_await failure_of(*session, std::move(request));
    CHECK(error.kind() == FailureKind::connect);
    CHECK(error.retryable());
    CHECK(std::string(error.what()) ==
          "http://127.0.0.1:" + std::to_string(port) + ": connection refused");
  });
}

TEST_CASE("a response that does not come within request_timeout is a timeout") {
  asio::io_context io;
  TestServer server(io, [](const SeenRequest&) { return Reply{"", 0ms, false, true}; });
  ClientOptions options;
  options.request_timeout = 200ms;
  auto session = session_for(io, server.port(), options);
  run(io,
      [&]() -> asio::awaitable<void> {
        const auto start = Clock::now();
        auto request = get("/");
        const auto error = co_await failure_of(*session, std::move(request));
        const auto took = Clock::now() - start;
        CHECK(error.kind() == FailureKind::timeout);
        CHECK(std::string(error.what()) ==
              session->origin() + ": timed out reading the response (request timeout 200 ms)");
        CHECK(took >= 190ms);
        CHECK(took < 2s);
      },
      {&server});
}

TEST_CASE("a connection closed in the middle of a response is dropped") {
  asio::io_context io;
  TestServer server(io, [](const SeenRequest&) {
    return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", 0ms, true};
  });
  auto session = session_for(io, server.port());
  run(io,
      [&]() -> asio::awaitable<void> {
        auto request = get("/");
        const auto error = co_await failure_of(*session, std::move(request));
        CHECK(error.kind() == FailureKind::dropped);
        CHECK(error.retryable());
        CHECK(std::string(error.what()).find("in the middle of the response") != std::string::npos);
      },
      {&server});
  CHECK(server.requests().size() == 1);
}

TEST_CASE("a response over max_response_bytes is too_large and not retryable") {
  asio::io_context io;
  TestServer server(io, [](const SeenRequest& request) {
    if (request.target == "/headers")
      return Reply{http_reply(200, "", {{"X-Big", std::string(70'000, 'h')}})};
    if (request.target == "/chunked")
      return Reply{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" +
                   std::string(1024, 'c') + "\r\n400\r\n" + std::string(1024, 'c') +
                   "\r\n0\r\n\r\n"};
    return Reply{http_reply(200, std::string(5000, 'b'))};
  });
  ClientOptions options;
  options.max_response_bytes = 1500;
  auto session = session_for(io, server.port(), options);
  run(io,
      [&]() -> asio::awaitable<void> {
        for (const char* target : {"/", "/chunked"}) {
          auto request = get(target);
          const auto error = co_await failure_of(*session, std::move(request));
          CHECK(error.kind() == FailureKind::too_large);
          CHECK_FALSE(error.retryable());
          CHECK(std::string(error.what()) ==
                session->origin() + ": response body larger than the limit of 1500 bytes");
        }
        auto request = get("/headers");
        const auto error = co_await failure_of(*session, std::move(request));
        CHECK(error.kind() == FailureKind::too_large);
      },
      {&server});
}

TEST_CASE("a response that is not HTTP is a protocol failure") {
  asio::io_context io;
  TestServer server(io, [](const SeenRequest&) { return Reply{"SSH-2.0-OpenSSH\r\n\r\n"}; });
  auto session = session_for(io, server.port());
  run(io,
      [&]() -> asio::awaitable<void> {
        auto request = get("/");
        const auto error = co_await failure_of(*session, std::move(request));
        CHECK(error.kind() == FailureKind::protocol);
        CHECK(std::string(error.what()).rfind(session->origin() + ": invalid HTTP response", 0) ==
              0);
      },
      {&server});
}

TEST_CASE("a host name that does not resolve is a resolve failure") {
  asio::io_context io;
  const auto url = pb::net::Url::parse("https://nonexistent.invalid");
  auto session = pb::net::make_http_session(io.get_executor(), url, {});
  run(io, [&]() -> asio::awaitable<void> {
    auto request = get("/");
    const auto error = co_await failure_of(*session, std::move(request));
    CHECK(error.kind() == FailureKind::resolve);
    CHECK(std::string(error.what()).rfind("https://nonexistent.invalid: cannot resolve", 0) == 0);
  });
}

TEST_CASE("plain http is refused for anything but loopback") {
  asio::io_context io;
  for (const char* text : {"http://example.com", "http://10.1.2.3:8080", "http://127.example.com"})
    CHECK_THROWS_AS(pb::net::make_http_session(io.get_executor(), pb::net::Url::parse(text), {}),
                    std::invalid_argument);
  for (const char* text :
       {"http://localhost:1", "http://127.0.0.1:1", "http://[::1]:1", "https://example.com"})
    CHECK_NOTHROW(pb::net::make_http_session(io.get_executor(), pb::net::Url::parse(text), {}));
}

TEST_CASE("bad options are refused when the session is made") {
  asio::io_context io;
  ClientOptions missing_ca;
  missing_ca.ca_file = "/nonexistent/ca.pem";
  const auto url = pb::net::Url::parse("https://example.com");
  try {
    pb::net::make_http_session(io.get_executor(), url, missing_ca);
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("/nonexistent/ca.pem") != std::string::npos);
  }
  ClientOptions no_slots;
  no_slots.max_in_flight = 0;
  CHECK_THROWS_AS(pb::net::make_http_session(io.get_executor(), url, no_slots),
                  std::invalid_argument);
}

TEST_CASE("a request that would not serialise as meant is refused before sending") {
  asio::io_context io;
  TestServer server(io, ok);
  auto session = session_for(io, server.port());
  run(io,
      [&]() -> asio::awaitable<void> {
        auto request = get("/");
        request.headers = {{"Authorization", "Bearer s3cret\r\nX-Injected: 1"}};
        try {
          co_await session->send(std::move(request));
          FAIL("no exception");
        } catch (const std::invalid_argument& e) {
          CHECK(std::string(e.what()).find("Authorization") != std::string::npos);
          CHECK(std::string(e.what()).find("s3cret") == std::string::npos);
        }
      },
      {&server});
  CHECK(server.connections() == 0);
}
