// The control socket server: accepts beectl connections on a Unix stream
// socket inside the daemon's io_context, reads framed requests with a size cap
// and a per-message deadline, and hands each to a RequestHandler.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "control/message.hpp"

namespace pb::control {

// Who is on the other end of the socket (SO_PEERCRED).
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Lets a handler send progress events before its final reply.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Sends one event frame; returns false if the client is gone (the handler
  // should then stop waiting and return).
  virtual boost::asio::awaitable<bool> send(Event event) = 0;
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Called on the io_context for each well-formed request. Must not block.
  virtual boost::asio::awaitable<Reply> handle(const Request& request, const PeerCredentials& peer,
                                               EventSink& events) = 0;
};

struct ServerOptions {
  std::filesystem::path socket_path;
  std::size_t max_message_bytes = 16u << 20;           // 16 MiB, as systemd's varlink
  std::chrono::milliseconds read_timeout{10'000};      // per request frame
  std::chrono::milliseconds write_timeout{10'000};     // per reply/event frame
  std::size_t max_clients = 64;                        // concurrent sessions
  unsigned socket_mode = 0660;
};

class Server {
 public:
  Server(boost::asio::io_context& io, ServerOptions options, RequestHandler& handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens (replacing a stale socket file; refusing if another
  // process still accepts on it), then accepts until stop(). Throws
  // std::system_error with a message naming the path on failure.
  void start();
  // Closes the acceptor and removes the socket file; open sessions finish.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pb::control
