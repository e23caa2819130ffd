#include "net/pooled_session.hpp"

#include <utility>

#include "log/log.hpp"
#include "net/request_check.hpp"

namespace pb::net::detail {

PooledSession::PooledSession(boost::asio::any_io_executor io,
                             std::shared_ptr<const Endpoint> endpoint)
    : io_(std::move(io)),
      endpoint_(std::move(endpoint)),
      slots_(io_, endpoint_->options.max_in_flight) {}

std::shared_ptr<HttpSession> PooledSession::for_origin(const Url& other) const {
  return make_http_session(io_, other, endpoint_->options);
}

boost::asio::awaitable<Response> PooledSession::send(Request request) {
  check_request(request);
  const auto self = shared_from_this();
  co_await slots_.acquire();
  const async::SemaphorePermit permit(slots_);

  if (auto reused = take_idle()) {
    try {
      Response response = co_await reused->exchange(request);
      keep_if_reusable(std::move(reused));
      co_return response;
    } catch (const TransportError&) {
      if (!reused->failed_unanswered()) throw;
    }
    // The server closed the idle connection as the request went out (keep-alive
    // timeouts race like that): no answer came, so sending it again on a new connection
    // is a retry. Once only: a new connection that fails the same way is the server's
    // answer. It is logged as one (send_with_retries does not see it, so its attempt
    // count leaves it out): a request that then fails needs the whole story. Resending a
    // request the server may have read is safe for the stores: Shopify's mutations carry
    // an idempotency key, WooCommerce and the feeds send absolute quantities or only read.
    // The target is not logged: it may hold query-string credentials.
    pb::log::warn(
        "{}: {} resent after a dropped kept-alive connection (the server closed it as "
        "the request went out, with no answer): retrying at once on a new connection",
        endpoint_->origin, request.method);
  }
  auto endpoint = endpoint_;
  auto connection = co_await Connection::open(io_, endpoint);
  Response response = co_await connection->exchange(request);
  keep_if_reusable(std::move(connection));
  co_return response;
}

std::unique_ptr<Connection> PooledSession::take_idle() {
  while (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    if (!connection->closed_by_peer()) return connection;
    pb::log::debug("{}: idle connection closed by the server", endpoint_->origin);
  }
  return nullptr;
}

void PooledSession::keep_if_reusable(std::unique_ptr<Connection> connection) {
  if (connection->reusable()) idle_.push_back(std::move(connection));
}

}  // namespace pb::net::detail
