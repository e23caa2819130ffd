// net::observe: each exchange of the wrapped session is reported with its outcome and duration.
#include <exception>
#include <memory>
#include <vector>

#include <doctest/doctest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "net/exchange_observer.hpp"

namespace asio = boost::asio;
using pb::net::ExchangeOutcome;
using pb::net::Response;

namespace {

// Answers with the statuses it is given, in turn; 0 throws a TransportError (timeout).
class StubSession final : public pb::net::HttpSession {
 public:
  explicit StubSession(std::vector<unsigned> statuses) : statuses_(std::move(statuses)) {}
  asio::awaitable<Response> send(pb::net::Request) override {
    const unsigned status = statuses_.at(next_++);
    if (status == 0) throw pb::net::TransportError(pb::net::FailureKind::timeout, "timed out");
    Response response;
    response.status = status;
    response.body =
        status == 200 && next_ == 2 ? R"({"errors":[{"extensions":{"code":"THROTTLED"}}]})" : "{}";
    co_return response;
  }
  std::string origin() const override { return "https://shop.example.com"; }

 private:
  std::vector<unsigned> statuses_;
  std::size_t next_ = 0;
};

struct Recorder final : pb::net::ExchangeObserver {
  std::vector<ExchangeOutcome> outcomes;
  void exchanged(ExchangeOutcome outcome, std::chrono::duration<double> elapsed) override {
    CHECK(elapsed.count() >= 0);
    outcomes.push_back(outcome);
  }
};

}  // namespace

TEST_CASE("observe reports each exchange's outcome, and a null observer wraps nothing") {
  auto inner = std::make_shared<StubSession>(std::vector<unsigned>{200, 200, 429, 404, 503, 0});
  auto recorder = std::make_shared<Recorder>();
  const pb::net::ThrottleJudge judge = [](const Response& r) {
    return r.body.find("THROTTLED") != std::string::npos;
  };
  auto session = pb::net::observe(inner, recorder, judge);
  CHECK(session != inner);
  CHECK(session->origin() == "https://shop.example.com");
  CHECK(pb::net::observe(inner, nullptr) == inner);

  asio::io_context io;
  bool threw = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 5; ++i) {
          const pb::net::Request request;
          co_await session->send(request);
        }
        try {
          const pb::net::Request request;
          co_await session->send(request);
        } catch (const pb::net::TransportError&) {
          threw = true;
        }
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  CHECK(threw);
  CHECK(recorder->outcomes ==
        std::vector<ExchangeOutcome>{ExchangeOutcome::ok, ExchangeOutcome::throttled,
                                     ExchangeOutcome::throttled, ExchangeOutcome::client_error,
                                     ExchangeOutcome::server_error, ExchangeOutcome::failed});
  CHECK(pb::net::to_string(ExchangeOutcome::client_error) == "client_error");
}
