// The control socket server: accepts beectl connections on a Unix stream
// socket inside the daemon's io_context, reads framed requests with a size cap
// and a per-message deadline, and hands each to a RequestHandler.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

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
  // Sends one event frame within the write timeout; returns false if the
  // client is gone or too slow (the handler should then stop waiting and
  // return). One send at a time: await each before the next.
  virtual boost::asio::awaitable<bool> send(Event event) = 0;
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Called on the io_context for each well-formed request. Must not block.
  // The server checks framing and message shape only: the command, its args
  // (find_command, validate_args in control/commands.hpp) and the peer's right
  // to run a mutating command are the handler's to check.
  virtual boost::asio::awaitable<Reply> handle(const Request& request, const PeerCredentials& peer,
                                               EventSink& events) = 0;
};

struct ServerOptions {
  std::filesystem::path socket_path;
  std::size_t max_message_bytes = 16u << 20;        // 16 MiB, as systemd's varlink
  std::chrono::milliseconds read_timeout{10'000};   // per request frame
  std::chrono::milliseconds write_timeout{10'000};  // per reply/event frame
  std::size_t max_clients = 64;                     // concurrent sessions, for everyone
  // One unprivileged uid's share of max_clients: a reader that opens socket
  // after socket cannot lock out the others, and never root.
  std::size_t max_clients_per_uid = 16;
  // Sessions past max_clients that only privileged_uids may open, so root can
  // always get in to stop or reload while readers hold every ordinary slot.
  std::size_t reserved_clients = 8;
  std::vector<uid_t> privileged_uids = {0, ::geteuid()};  // root and beed's own user
  unsigned socket_mode = 0660;
};

// Runs on one io_context thread; call start() and stop() from that thread (or
// before it runs). Sessions keep the server's state alive, so the Server may be
// destroyed while they finish; the RequestHandler must outlive the io_context.
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
  // Closes the acceptor, removes the socket file (if it is still ours) and
  // hangs up on sessions waiting for a request; a request already being
  // handled gets its reply. Idempotent; the destructor calls it.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pb::control
