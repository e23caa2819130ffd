// beed's side of the control protocol: checks each request against the
// command table (arguments, the mutating flag and the peer's rights) and
// answers it from the service's state, with one handler per CommandId.
#pragma once

#include <optional>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "control/commands.hpp"
#include "control/server.hpp"
#include "core/types.hpp"
#include "service/paged_replies.hpp"

namespace pb::service {

class Service;

class CommandHandlers : public control::RequestHandler {
 public:
  explicit CommandHandlers(Service& service) : service_(service) {}

  boost::asio::awaitable<control::Reply> handle(const control::Request& request,
                                                const control::PeerCredentials& peer,
                                                control::EventSink& events) override;

 private:
  // One shape for every handler, so that they fit one table indexed by
  // CommandId. `args` have been checked against the command's entry.
  using Handler = boost::asio::awaitable<control::Reply> (CommandHandlers::*)(
      const boost::json::object& args, control::EventSink& events);
  // A command's handler, and whether it has one. `found` is what the build checks:
  // g++ cannot compare a member-function pointer with null in a constant
  // expression under -fsanitize=undefined.
  struct HandlerEntry {
    Handler handler = nullptr;
    bool found = false;
  };
  // A switch without a default: -Wswitch names a command left without a
  // handler, and handle() refuses to compile if any entry is missing.
  static constexpr HandlerEntry handler_for(control::CommandId id);

  boost::asio::awaitable<control::Reply> status(const boost::json::object& args,
                                                control::EventSink& events);
  boost::asio::awaitable<control::Reply> full_sync(const boost::json::object& args,
                                                   control::EventSink& events);
  boost::asio::awaitable<control::Reply> sync(const boost::json::object& args,
                                              control::EventSink& events);
  boost::asio::awaitable<control::Reply> inventory(const boost::json::object& args,
                                                   control::EventSink& events);
  boost::asio::awaitable<control::Reply> connections(const boost::json::object& args,
                                                     control::EventSink& events);
  boost::asio::awaitable<control::Reply> history(const boost::json::object& args,
                                                 control::EventSink& events);
  boost::asio::awaitable<control::Reply> diff(const boost::json::object& args,
                                              control::EventSink& events);
  boost::asio::awaitable<control::Reply> pause(const boost::json::object& args,
                                               control::EventSink& events);
  boost::asio::awaitable<control::Reply> resume(const boost::json::object& args,
                                                control::EventSink& events);
  boost::asio::awaitable<control::Reply> reload(const boost::json::object& args,
                                                control::EventSink& events);

  // full-sync and sync: start a run, and with --wait stream its progress.
  boost::asio::awaitable<control::Reply> request_sync(const boost::json::object& args,
                                                      SyncKind kind, control::EventSink& events);
  // pause and resume.
  boost::asio::awaitable<control::Reply> set_paused(const boost::json::object& args, bool paused);
  bool may_mutate(const control::PeerCredentials& peer) const;
  // The bounds on heavy reads, shared by every client; made on the loop's executor at first use.
  boost::asio::awaitable<ReadLimits> read_limits();

  Service& service_;
  std::optional<async::Semaphore> scans_;
  std::optional<async::Semaphore> diffs_;
};

}  // namespace pb::service
