// The pure parts of retrying: judge_status and Retry-After in both of its forms
// (the backoff itself is tested with lib/async).
#include <chrono>

#include <doctest/doctest.h>

#include "net/retry.hpp"

using namespace std::chrono_literals;
using pb::net::parse_retry_after;

TEST_CASE("judge_status retries 429 and the 5xx that mean 'try later'") {
  for (unsigned status : {429u, 500u, 502u, 503u, 504u}) {
    pb::net::Response response;
    response.status = status;
    const auto verdict = pb::net::judge_status(response);
    CHECK(verdict.retry);
    CHECK(verdict.reason == "HTTP " + std::to_string(status));
  }
  for (unsigned status : {200u, 201u, 204u, 301u, 400u, 401u, 404u, 409u, 422u, 501u, 505u}) {
    pb::net::Response response;
    response.status = status;
    CHECK_FALSE(pb::net::judge_status(response).retry);
  }
}

TEST_CASE("RetryOptions keeps its defaults and is an async::BackoffPolicy") {
  const pb::net::RetryOptions options;
  const pb::async::BackoffPolicy& policy = options;
  CHECK(policy.max_attempts == 5);
  CHECK(policy.initial_backoff == 500ms);
  CHECK(policy.max_backoff == 30s);
  CHECK(options.max_total == 120s);
}

TEST_CASE("Retry-After as delta-seconds") {
  const auto now = std::chrono::system_clock::now();
  CHECK(parse_retry_after("120", now) == 120'000ms);
  CHECK(parse_retry_after("0", now) == 0ms);
  CHECK(parse_retry_after(" 7 ", now) == 7'000ms);
  CHECK(parse_retry_after("99999999999999999999", now) == std::chrono::milliseconds(24h));
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("-1", now));
  CHECK_FALSE(parse_retry_after("1.5", now));
  CHECK_FALSE(parse_retry_after("10s", now));
}

TEST_CASE("Retry-After as an IMF-fixdate") {
  // Wed, 21 Oct 2015 07:28:00 GMT
  const auto date = std::chrono::sys_days(std::chrono::year(2015) / 10 / 21) + 7h + 28min;
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", date - 30s) == 30'000ms);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", date - 1500ms) == 1500ms);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", date + 1h) == 0ms);  // past
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
                          std::chrono::sys_days(std::chrono::year(1994) / 11 / 6)) ==
        std::chrono::milliseconds(8h + 49min + 37s));
  CHECK_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 UTC", date));
  CHECK_FALSE(parse_retry_after("Wed, 31 Feb 2015 07:28:00 GMT", date));
  CHECK_FALSE(parse_retry_after("Wed, 21 Foo 2015 07:28:00 GMT", date));
  CHECK_FALSE(parse_retry_after("Wed, 21 Oct 2015 25:28:00 GMT", date));
  CHECK_FALSE(parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", date));
  CHECK_FALSE(parse_retry_after("Wed, 21 Oct 2015 7:28:00 GMT", date));
}

TEST_CASE("come_back_of keeps a retried answer's Retry-After for the run's message") {
  pb::net::Response response;
  response.status = 503;
  CHECK_FALSE(pb::net::come_back_of(response));  // no header
  response.headers.push_back({"retry-after", "soon"});
  CHECK_FALSE(pb::net::come_back_of(response));  // one that does not parse
  response.headers.front().value = "600";
  const auto before = pb::now_millis();
  const auto come_back = pb::net::come_back_of(response);
  REQUIRE(come_back);
  CHECK(come_back->status == 503);
  CHECK(come_back->header == "600");
  CHECK(come_back->delay == 600s);
  CHECK(come_back->at >= before + 600'000);
  CHECK(come_back->at <= pb::now_millis() + 600'000);
  response.headers.front().value = std::string(100, '9');  // a long value is cut
  CHECK(pb::net::come_back_of(response)->header.size() == 64);
}
