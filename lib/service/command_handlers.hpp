// beed's side of the control protocol: checks each request against the
// command table (arguments, the mutating flag and the peer's rights) and
// answers it from the service's state.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "control/server.hpp"
#include "core/types.hpp"

namespace pb::service {

class Service;

class CommandHandlers : public control::RequestHandler {
 public:
  explicit CommandHandlers(Service& service) : service_(service) {}

  boost::asio::awaitable<control::Reply> handle(const control::Request& request,
                                                const control::PeerCredentials& peer,
                                                control::EventSink& events) override;

 private:
  boost::asio::awaitable<control::Reply> status();
  boost::asio::awaitable<control::Reply> connections();
  boost::asio::awaitable<control::Reply> sync(const boost::json::object& args, SyncKind kind,
                                              control::EventSink& events);
  boost::asio::awaitable<control::Reply> inventory(const boost::json::object& args);
  boost::asio::awaitable<control::Reply> history(const boost::json::object& args);
  boost::asio::awaitable<control::Reply> diff(const boost::json::object& args);
  boost::asio::awaitable<control::Reply> pause(const boost::json::object& args, bool paused);
  boost::asio::awaitable<control::Reply> reload();
  bool may_mutate(const control::PeerCredentials& peer) const;

  Service& service_;
};

}  // namespace pb::service
