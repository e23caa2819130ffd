// The decorator behind observe(): times each send() of the wrapped session and classifies it.
#include <utility>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include "net/exchange_observer.hpp"

namespace pb::net {

namespace {

ExchangeOutcome classify(const Response& response, const ThrottleJudge& throttled) {
  if (response.status == 429) return ExchangeOutcome::throttled;
  if (response.status >= 500) return ExchangeOutcome::server_error;
  if (response.status >= 400) return ExchangeOutcome::client_error;
  if (throttled && throttled(response)) return ExchangeOutcome::throttled;
  return ExchangeOutcome::ok;
}

class ObservedSession final : public HttpSession,
                              public std::enable_shared_from_this<ObservedSession> {
 public:
  ObservedSession(std::shared_ptr<HttpSession> inner, std::shared_ptr<ExchangeObserver> observer,
                  ThrottleJudge throttled)
      : inner_(std::move(inner)),
        observer_(std::move(observer)),
        throttled_(std::move(throttled)) {}

  boost::asio::awaitable<Response> send(Request request) override {
    const auto self = shared_from_this();  // alive while a send runs, as the inner session is
    const auto start = std::chrono::steady_clock::now();
    const auto elapsed = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
    };
    try {
      Response response = co_await inner_->send(std::move(request));
      observer_->exchanged(classify(response, throttled_), elapsed());
      co_return response;
    } catch (const TransportError&) {
      observer_->exchanged(ExchangeOutcome::failed, elapsed());
      throw;
    }
  }

  std::string origin() const override { return inner_->origin(); }

 private:
  std::shared_ptr<HttpSession> inner_;
  std::shared_ptr<ExchangeObserver> observer_;
  ThrottleJudge throttled_;
};

}  // namespace

std::string_view to_string(ExchangeOutcome outcome) {
  switch (outcome) {
    case ExchangeOutcome::ok:
      return "ok";
    case ExchangeOutcome::throttled:
      return "throttled";
    case ExchangeOutcome::client_error:
      return "client_error";
    case ExchangeOutcome::server_error:
      return "server_error";
    case ExchangeOutcome::failed:
      return "failed";
  }
  return "unknown";
}

std::shared_ptr<HttpSession> observe(std::shared_ptr<HttpSession> session,
                                     std::shared_ptr<ExchangeObserver> observer,
                                     ThrottleJudge throttled) {
  if (!observer || !session) return session;
  return std::make_shared<ObservedSession>(std::move(session), std::move(observer),
                                           std::move(throttled));
}

}  // namespace pb::net
