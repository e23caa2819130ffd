// send_with_retries against the test server: which responses and failures are
// tried again, how long it waits, when it gives up, and what it logs.
#include <chrono>
#include <string>

#include <doctest/doctest.h>
#include <boost/asio/io_context.hpp>

#include "../captured_log.hpp"
#include "net/retry.hpp"
#include "test_server.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using pb::net::FailureKind;
using pb::net::Request;
using pb::net::Response;
using pb::net::RetriesExhausted;
using pb::net::RetryOptions;
using pb::net::TransportError;
using pb::net::Verdict;
using pb::test::http_reply;
using pb::test::Reply;
using pb::test::run;
using pb::test::SeenRequest;
using pb::test::TestServer;
using Clock = std::chrono::steady_clock;

using pb::test::CapturedLog;

RetryOptions quick() {
  RetryOptions options;
  options.initial_backoff = 10ms;
  options.max_backoff = 50ms;
  options.max_total = 5s;
  return options;
}

Request secret_get() {
  Request request;
  request.target = "/inventory";
  request.headers = {{"Authorization", "Bearer top-secret-token"}};
  request.body = "";
  return request;
}

std::shared_ptr<pb::net::HttpSession> session_for(asio::io_context& io, std::uint16_t port) {
  return pb::net::make_http_session(
      io.get_executor(), pb::net::Url::parse("http://127.0.0.1:" + std::to_string(port)), {});
}

// Replies with `statuses` in turn (the last one for good).
TestServer::Script in_turn(std::vector<Reply> replies) {
  auto next = std::make_shared<std::size_t>(0);
  return [replies = std::move(replies), next](const SeenRequest&) {
    const auto i = std::min(*next, replies.size() - 1);
    ++*next;
    return replies[i];
  };
}

}  // namespace

TEST_CASE("503, 503, 200: three attempts with growing waits, each logged without secrets") {
  CapturedLog log;
  asio::io_context io;
  TestServer server(io, in_turn({{http_reply(503)}, {http_reply(503)}, {http_reply(200, "fine")}}));
  auto session = session_for(io, server.port());
  RetryOptions options = quick();
  options.initial_backoff = 100ms;
  options.max_backoff = 1s;
  const auto start = Clock::now();
  run(io,
      [&]() -> asio::awaitable<void> {
        const auto request = secret_get();
        // The default judge: no Judge temporary made here.
        const Response response = co_await pb::net::send_with_retries(*session, request, options);
        CHECK(response.status == 200);
        CHECK(response.body == "fine");
      },
      {&server});
  const auto took = Clock::now() - start;
  CHECK(server.requests().size() == 3);
  CHECK(server.connections() == 1);  // retries reuse the kept-alive connection
  // Waits drawn from [50, 100] ms, then [100, 200] ms.
  CHECK(took >= 150ms);
  CHECK(took < 1500ms);
  const auto text = log.text();
  const auto origin = session->origin();
  CHECK(text.find("warning " + origin + ": attempt 1 of 5 failed: HTTP 503; retrying in ") !=
        std::string::npos);
  CHECK(text.find("warning " + origin + ": attempt 2 of 5 failed: HTTP 503; retrying in ") !=
        std::string::npos);
  CHECK(text.find("attempt 3") == std::string::npos);
  CHECK(text.find("top-secret-token") == std::string::npos);
}

TEST_CASE("a Retry-After longer than the backoff is waited for") {
  CapturedLog log;
  asio::io_context io;
  TestServer server(
      io, in_turn({{http_reply(429, "", {{"Retry-After", "1"}})}, {http_reply(200, "fine")}}));
  auto session = session_for(io, server.port());
  const auto options = quick();
  const auto start = Clock::now();
  run(io,
      [&]() -> asio::awaitable<void> {
        const auto request = secret_get();
        const auto response = co_await pb::net::send_with_retries(*session, request, options);
        CHECK(response.status == 200);
      },
      {&server});
  const auto took = Clock::now() - start;
  CHECK(server.requests().size() == 2);
  CHECK(took >= 990ms);
  CHECK(took < 2s);
  CHECK(log.text().find("HTTP 429; retrying in 1000 ms") != std::string::npos);
}

TEST_CASE("max_attempts reached: RetriesExhausted with the count, the time and the last reason") {
  CapturedLog log;
  asio::io_context io;
  TestServer server(io, [](const SeenRequest&) { return Reply{http_reply(503)}; });
  auto session = session_for(io, server.port());
  auto options = quick();
  options.max_attempts = 3;
  run(io,
      [&]() -> asio::awaitable<void> {
        const auto request = secret_get();
        try {
          co_await pb::net::send_with_retries(*session, request, options);
          FAIL("no exception");
        } catch (const RetriesExhausted& e) {
          const std::string message = e.what();
          CHECK(message.rfind(session->origin() + ": gave up after 3 attempts in 0.", 0) == 0);
          CHECK(message.ends_with(" s: HTTP 503"));
        }
      },
      {&server});
  CHECK(server.requests().size() == 3);
}

TEST_CASE("a Retry-After that would cross max_total ends the retries at once") {
  CapturedLog log;
  asio::io_context io;
  TestServer server(io, [](const SeenRequest&) {
    return Reply{http_reply(503, "", {{"Retry-After", "30"}})};
  });
  auto session = session_for(io, server.port());
  auto options = quick();
  options.max_total = 2s;
  const auto start = Clock::now();
  run(io,
      [&]() -> asio::awaitable<void> {
        const auto request = secret_get();
        try {
          co_await pb::net::send_with_retries(*session, request, options);
          FAIL("no exception");
        } catch (const RetriesExhausted& e) {
          CHECK(std::string(e.what()).find(": gave up after 1 attempt in ") != std::string::npos);
        }
      },
      {&server});
  CHECK(Clock::now() - start < 1s);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("retryable transport failures are retried, and the last one is the reason") {
  CapturedLog log;
  asio::io_context io;
  const auto port = pb::test::closed_port();
  auto session = session_for(io, port);
  auto options = quick();
  options.max_attempts = 3;
  run(io, [&]() -> asio::awaitable<void> {
    const auto request = secret_get();
    try {
      co_await pb::net::send_with_retries(*session, request, options);
      FAIL("no exception");
    } catch (const RetriesExhausted& e) {
      const std::string message = e.what();
      CHECK(message.rfind(session->origin() + ": gave up after 3 attempts in ", 0) == 0);
      // The origin once, at the start.
      CHECK(message.ends_with(" s: connection refused"));
    }
  });
  CHECK(log.text().find("attempt 2 of 3 failed: connection refused; retrying in ") !=
        std::string::npos);
}

TEST_CASE("a certificate that does not verify is not retried") {
  CapturedLog log;
  asio::io_context io;
  const auto& dir = pb::test::test_certificates();
  TestServer server(
      io, [](const SeenRequest&) { return Reply{http_reply(200)}; },
      TestServer::Tls{dir / "expired.pem", dir / "expired.key"});
  pb::net::ClientOptions client;
  client.ca_file = dir / "ca.pem";
  auto session = pb::net::make_http_session(
      io.get_executor(), pb::net::Url::parse("https://127.0.0.1:" + std::to_string(server.port())),
      client);
  const auto options = quick();
  run(io,
      [&]() -> asio::awaitable<void> {
        const auto request = secret_get();
        try {
          co_await pb::net::send_with_retries(*session, request, options);
          FAIL("no exception");
        } catch (const TransportError& e) {
          CHECK(e.kind() == FailureKind::tls_verify);
        }
      },
      {&server});
  CHECK(server.connections() == 1);
  CHECK(log.text().empty());
}

TEST_CASE("statuses the judge accepts are returned at once, and a custom judge decides") {
  CapturedLog log;
  asio::io_context io;
  TestServer server(
      io, in_turn({{http_reply(404)}, {http_reply(200, "{broken")}, {http_reply(200, "{}")}}));
  auto session = session_for(io, server.port());
  const auto options = quick();
  const pb::net::Judge json_judge = [](const Response& response) {
    if (response.body == "{broken") return Verdict{true, "malformed JSON"};
    return Verdict{};
  };
  run(io,
      [&]() -> asio::awaitable<void> {
        const auto request = secret_get();
        const auto not_found = co_await pb::net::send_with_retries(*session, request, options);
        CHECK(not_found.status == 404);
        const auto response =
            co_await pb::net::send_with_retries(*session, request, options, json_judge);
        CHECK(response.body == "{}");
      },
      {&server});
  CHECK(server.requests().size() == 3);
  CHECK(log.text().find("attempt 1 of 5 failed: malformed JSON; retrying in ") !=
        std::string::npos);
}

TEST_CASE("a request resent after a dropped kept-alive connection is logged as a retry") {
  CapturedLog log;
  asio::io_context io;
  int seen = 0;
  TestServer server(io, [&](const SeenRequest& request) {
    ++seen;
    // The second request arrives on the kept-alive first connection: drop it unanswered.
    if (request.connection == 1 && seen == 2) return Reply{"", 0ms, true};
    if (seen == 3) return Reply{http_reply(503)};
    return Reply{http_reply(200, "fine")};
  });
  auto session = session_for(io, server.port());
  const RetryOptions options = quick();
  run(io,
      [&]() -> asio::awaitable<void> {
        const auto request = secret_get();
        CHECK((co_await pb::net::send_with_retries(*session, request, options)).status == 200);
        CHECK((co_await pb::net::send_with_retries(*session, request, options)).status == 200);
      },
      {&server});
  CHECK(server.requests().size() == 4);
  const auto text = log.text();
  const auto origin = session->origin();
  const auto resent = text.find("warning " + origin +
                                ": GET resent after a dropped kept-alive connection (the server "
                                "closed it as the request went out, with no answer)");
  CHECK(resent != std::string::npos);
  // The 503 that followed is logged after it, so the log tells the whole story.
  CHECK(text.find(": attempt 1 of 5 failed: HTTP 503") > resent);
  CHECK(text.find("top-secret-token") == std::string::npos);
}
