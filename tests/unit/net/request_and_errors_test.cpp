// Requests refused before sending, and how error codes become TransportErrors.
#include <string>

#include <doctest/doctest.h>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include "net/request_check.hpp"
#include "net/transport_errors.hpp"

using namespace std::chrono_literals;
using pb::net::FailureKind;
using pb::net::Request;
using pb::net::detail::check_request;
using pb::net::detail::FailureContext;
using pb::net::detail::Phase;
using pb::net::detail::transport_error;
namespace http = boost::beast::http;
namespace asio_error = boost::asio::error;

TEST_CASE("check_request accepts ordinary requests") {
  Request request;
  request.method = "PATCH";
  request.target = "/admin/api/2024-01/inventory_levels/set.json?x=1&y=%20";
  request.headers = {{"X-Shopify-Access-Token", "shpat_0123"}, {"Accept", "*/*"}};
  CHECK_NOTHROW(check_request(request));
}

TEST_CASE("check_request refuses what would change the request's meaning") {
  Request base;
  base.target = "/";
  auto bad_method = base;
  bad_method.method = "GET /evil";
  CHECK_THROWS_AS(check_request(bad_method), std::invalid_argument);
  auto relative = base;
  relative.target = "items";
  CHECK_THROWS_AS(check_request(relative), std::invalid_argument);
  auto spaced = base;
  spaced.target = "/a b";
  CHECK_THROWS_AS(check_request(spaced), std::invalid_argument);
  auto bad_name = base;
  bad_name.headers = {{"Authorization: Bearer abc", "x"}};
  try {
    check_request(bad_name);
    FAIL("accepted");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("abc") == std::string::npos);
  }
  auto injected = base;
  injected.headers = {{"Authorization", "Bearer abc\r\nX-Admin: yes"}};
  try {
    check_request(injected);
    FAIL("accepted");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("Authorization") != std::string::npos);
    CHECK(std::string(e.what()).find("abc") == std::string::npos);
  }
}

namespace {
pb::net::TransportError map(Phase phase, boost::system::error_code ec) {
  const FailureContext context{"https://shop.example", phase,
                               phase == Phase::write || phase == Phase::read ? 60000ms : 10000ms,
                               1024};
  return transport_error(context, ec);
}
}  // namespace

TEST_CASE("error codes map to the failure kinds and messages callers rely on") {
  struct Case {
    Phase phase;
    boost::system::error_code ec;
    FailureKind kind;
    const char* message;
  };
  const Case cases[] = {
      {Phase::resolve, asio_error::host_not_found, FailureKind::resolve,
       "https://shop.example: cannot resolve the host name: "},
      {Phase::resolve, boost::beast::error::timeout, FailureKind::connect,
       "https://shop.example: timed out resolving the host (connect timeout 10000 ms)"},
      {Phase::connect, asio_error::connection_refused, FailureKind::connect,
       "https://shop.example: connection refused"},
      {Phase::connect, asio_error::network_unreachable, FailureKind::connect,
       "https://shop.example: cannot connect: "},
      {Phase::handshake, boost::asio::ssl::error::stream_truncated, FailureKind::tls,
       "https://shop.example: TLS handshake failed: the server closed the connection"},
      {Phase::write, asio_error::broken_pipe, FailureKind::dropped,
       "https://shop.example: connection lost sending the request: "},
      {Phase::write, boost::beast::error::timeout, FailureKind::timeout,
       "https://shop.example: timed out sending the request (request timeout 60000 ms)"},
      {Phase::read, boost::beast::error::timeout, FailureKind::timeout,
       "https://shop.example: timed out reading the response (request timeout 60000 ms)"},
      {Phase::read, http::error::end_of_stream, FailureKind::dropped,
       "https://shop.example: the server closed the connection without responding"},
      {Phase::read, http::error::partial_message, FailureKind::dropped,
       "https://shop.example: the server closed the connection in the middle of the response"},
      {Phase::read, asio_error::connection_reset, FailureKind::dropped,
       "https://shop.example: connection lost reading the response: "},
      {Phase::read, http::error::body_limit, FailureKind::too_large,
       "https://shop.example: response body larger than the limit of 1024 bytes"},
      {Phase::read, http::error::header_limit, FailureKind::too_large,
       "https://shop.example: response header too large"},
      {Phase::read, http::error::bad_version, FailureKind::protocol,
       "https://shop.example: invalid HTTP response: "},
  };
  for (const auto& c : cases) {
    CAPTURE(c.message);
    const auto error = map(c.phase, c.ec);
    CHECK(error.kind() == c.kind);
    CHECK(std::string(error.what()).rfind(c.message, 0) == 0);
  }
}

TEST_CASE("only certificate failures and oversized responses are final") {
  CHECK_FALSE(pb::net::TransportError(FailureKind::tls_verify, "x").retryable());
  CHECK_FALSE(pb::net::TransportError(FailureKind::too_large, "x").retryable());
  for (auto kind : {FailureKind::resolve, FailureKind::connect, FailureKind::tls,
                    FailureKind::timeout, FailureKind::dropped, FailureKind::protocol})
    CHECK(pb::net::TransportError(kind, "x").retryable());
  CHECK(pb::net::to_string(FailureKind::tls_verify) == "tls_verify");
  CHECK(pb::net::to_string(FailureKind::too_large) == "too_large");
}
