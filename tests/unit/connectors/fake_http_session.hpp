// A scripted net::HttpSession for connector unit tests: each send() records the
// request and answers with the next handler's response (or throws its error).
// Live behaviour against the platforms' rules is tested against the emulators
// in tests/emulators through the real beed (tests/integration).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "net/http_session.hpp"

namespace pb::test {

class FakeHttpSession final : public net::HttpSession {
 public:
  using Handler = std::function<net::Response(const net::Request&)>;

  explicit FakeHttpSession(std::string origin = "https://fake.test") : origin_(std::move(origin)) {}

  // Answers the next request with `handler`; requests beyond the script fail the test
  // with a TransportError that names the request.
  void then(Handler handler) { script_.push_back(std::move(handler)); }
  void then_status(unsigned status, std::string body, std::vector<net::Header> headers = {}) {
    then([=](const net::Request&) { return net::Response{status, headers, body}; });
  }

  boost::asio::awaitable<net::Response> send(net::Request request) override {
    requests_.push_back(request);
    if (script_.empty())
      throw net::TransportError(
          net::FailureKind::protocol,
          "fake session: unscripted request " + request.method + " " + request.target);
    auto handler = std::move(script_.front());
    script_.pop_front();
    co_return handler(request);
  }

  std::string origin() const override { return origin_; }

  // What for_origin() hands out for a redirect to `other` (as "https://cdn.test"); an origin
  // not set here cannot be reached.
  void elsewhere(std::shared_ptr<FakeHttpSession> other) { others_[other->origin()] = other; }
  std::shared_ptr<net::HttpSession> for_origin(const net::Url& other) const override {
    const auto found = others_.find(other.origin());
    if (found == others_.end()) return net::HttpSession::for_origin(other);
    return found->second;
  }

  const std::vector<net::Request>& requests() const { return requests_; }
  std::size_t unused() const { return script_.size(); }

 private:
  std::string origin_;
  std::map<std::string, std::shared_ptr<FakeHttpSession>> others_;
  std::deque<Handler> script_;
  std::vector<net::Request> requests_;
};

}  // namespace pb::test
