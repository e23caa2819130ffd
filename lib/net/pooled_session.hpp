// The HttpSession behind make_http_session: a pool of kept-alive connections
// to one origin and a fair limit on the exchanges under way.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "async/semaphore.hpp"
#include "net/connection.hpp"
#include "net/http_session.hpp"

namespace pb::net::detail {

class PooledSession final : public HttpSession, public std::enable_shared_from_this<PooledSession> {
 public:
  // Must be owned by a shared_ptr: send() keeps the session alive while it runs.
  PooledSession(boost::asio::any_io_executor io, std::shared_ptr<const Endpoint> endpoint);

  boost::asio::awaitable<Response> send(Request request) override;
  std::string origin() const override { return endpoint_->origin; }
  std::shared_ptr<HttpSession> for_origin(const Url& other) const override;

  std::size_t idle_connections() const { return idle_.size(); }

 private:
  // The most recently used idle connection the server has not closed, or null.
  std::unique_ptr<Connection> take_idle();
  void keep_if_reusable(std::unique_ptr<Connection> connection);

  boost::asio::any_io_executor io_;
  std::shared_ptr<const Endpoint> endpoint_;
  async::Semaphore slots_;  // max_in_flight permits
  // Most recently used last. No more than max_in_flight, as each was in use at once.
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace pb::net::detail
