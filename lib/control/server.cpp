// Kept in one file on purpose: it is the only translation unit of pb_control
// that instantiates Asio's coroutine machinery, which dominates build time.
#include "control/server.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/serialize.hpp>

#include "control/admission.hpp"
#include "control/frame.hpp"
#include "control/peer_credentials_option.hpp"
#include "control/socket_file.hpp"

namespace pb::control {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::local::stream_protocol;
using asio::experimental::awaitable_operators::operator||;
using Clock = std::chrono::steady_clock;

// Completion errors come back as values: a peer hanging up is routine, not an
// exception, and `||` must see a failed read as "finished first".
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 64 * 1024;

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::system_category(), what);
}

void set_cloexec(int fd) {
  // Asio opens sockets without SOCK_CLOEXEC; beed may spawn helpers.
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

struct Session {
  explicit Session(stream_protocol::socket s)
      : socket(std::move(s)), timer(socket.get_executor()) {}
  ~Session() { close(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void close() {
    boost::system::error_code ignored;
    socket.shutdown(stream_protocol::socket::shutdown_both, ignored);
    socket.close(ignored);
    broken = true;
  }

  stream_protocol::socket socket;
  asio::steady_timer timer;
  bool reading = false;  // waiting for a request: stop() may cut it short
  bool broken = false;   // a write failed or timed out; nothing more is sent
};

}  // namespace

// Shared with every session coroutine so that a Server destroyed before its
// io_context finishes leaves no coroutine pointing at freed state.
struct ServerState {
  ServerState(asio::io_context& io_, ServerOptions options_, RequestHandler& handler_)
      : io(io_),
        options(std::move(options_)),
        handler(handler_),
        acceptor(io_),
        admission({options.max_clients, options.max_clients_per_uid, options.reserved_clients,
                   options.privileged_uids}) {}

  asio::io_context& io;
  ServerOptions options;
  RequestHandler& handler;
  stream_protocol::acceptor acceptor;
  std::list<Session*> sessions;
  Admission admission;
  bool started = false;
  bool stopping = false;
  bool bound = false;
  dev_t socket_dev = 0;
  ino_t socket_ino = 0;
};

struct Server::Impl {
  std::shared_ptr<ServerState> state;
};

namespace {

// Holds the slot Admission::admit() gave the peer from accept until the
// session's coroutine frame is destroyed, whether or not the coroutine ran.
class SessionSlot {
 public:
  SessionSlot(std::shared_ptr<ServerState> st, const PeerCredentials& peer)
      : st_(std::move(st)), peer_(peer) {}
  SessionSlot(SessionSlot&& other) noexcept = default;
  SessionSlot& operator=(SessionSlot&&) = delete;
  SessionSlot(const SessionSlot&) = delete;
  ~SessionSlot() {
    if (st_) st_->admission.release(peer_.uid);
  }
  ServerState& state() const { return *st_; }
  const PeerCredentials& peer() const { return peer_; }

 private:
  std::shared_ptr<ServerState> st_;
  PeerCredentials peer_;
};

// Lists the session for stop() while it lives.
class Registration {
 public:
  Registration(ServerState& st, Session& s)
      : st_(st), it_(st.sessions.insert(st.sessions.end(), &s)) {}
  ~Registration() { st_.sessions.erase(it_); }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

 private:
  ServerState& st_;
  std::list<Session*>::iterator it_;
};

awaitable<void> wait_until(asio::steady_timer& timer, Clock::time_point deadline) {
  timer.expires_at(deadline);
  co_await timer.async_wait(kTuple);
}

// nullopt: the deadline passed first.
awaitable<std::optional<std::tuple<boost::system::error_code, std::size_t>>> read_some_until(
    Session& s, asio::mutable_buffer buffer, Clock::time_point deadline) {
  auto result =
      co_await (s.socket.async_read_some(buffer, kTuple) || wait_until(s.timer, deadline));
  if (result.index() == 1) co_return std::nullopt;
  co_return std::get<0>(result);
}

awaitable<bool> write_payload(ServerState& st, Session& s, const std::string& payload) {
  if (s.broken) co_return false;
  const std::string frame = encode_frame(payload);
  auto result = co_await (asio::async_write(s.socket, asio::buffer(frame), kTuple) ||
                          wait_until(s.timer, Clock::now() + st.options.write_timeout));
  if (result.index() == 1 || std::get<0>(std::get<0>(result))) {
    // A client that does not read its replies is dropped, not waited for.
    s.close();
    co_return false;
  }
  co_return true;
}

awaitable<bool> write_reply(ServerState& st, Session& s, const Reply& reply) {
  std::string payload = boost::json::serialize(to_json(reply));
  if (payload.size() > st.options.max_message_bytes) {
    // The client would reject it anyway; tell it why instead.
    payload = boost::json::serialize(to_json(Reply::failure(
        Status::internal, "reply of " + std::to_string(payload.size()) +
                              " bytes exceeds the message limit of " +
                              std::to_string(st.options.max_message_bytes) + " bytes")));
  }
  co_return co_await write_payload(st, s, payload);
}

class SessionEvents final : public EventSink {
 public:
  SessionEvents(ServerState& st, Session& s) : st_(st), s_(s) {}
  awaitable<bool> send(Event event) override {
    const std::string payload = boost::json::serialize(to_json(event));
    if (payload.size() > st_.options.max_message_bytes) {
      // Replacing it with an error reply would end the exchange early in the
      // client's eyes while the handler carries on: hang up instead.
      s_.close();
      co_return false;
    }
    co_return co_await write_payload(st_, s_, payload);
  }

 private:
  ServerState& st_;
  Session& s_;
};

awaitable<void> serve(ServerState& st, Session& s, const PeerCredentials& peer) {
  FrameDecoder decoder(st.options.max_message_bytes);
  std::vector<char> buffer(kReadChunk);
  SessionEvents events(st, s);

  while (!st.stopping) {
    std::optional<std::string> payload = decoder.pop();
    std::string error;
    if (!payload) {
      // One deadline for the whole frame, so trickling bytes does not extend it.
      const Clock::time_point deadline = Clock::now() + st.options.read_timeout;
      s.reading = true;
      while (!payload && error.empty()) {
        auto read = co_await read_some_until(s, asio::buffer(buffer), deadline);
        if (!read || st.stopping) co_return;  // stalled, or beed is shutting down
        const auto [read_error, n] = *read;
        if (read_error) co_return;  // gone; a half-sent frame is not worth an answer
        try {
          decoder.feed(std::string_view(buffer.data(), n));
          payload = decoder.pop();
        } catch (const ProtocolError& e) {
          error = e.what();
        }
      }
      s.reading = false;
    }

    Request request;
    if (error.empty()) {
      try {
        request = parse_request(*payload);
      } catch (const ProtocolError& e) {
        error = e.what();
      }
    }
    if (!error.empty()) {
      // The stream can no longer be trusted to be in sync: answer, then hang up.
      co_await write_reply(st, s, Reply::failure(Status::bad_request, error));
      co_return;
    }

    Reply reply;
    try {
      reply = co_await st.handler.handle(request, peer, events);
    } catch (const std::exception& e) {
      reply = Reply::failure(Status::internal, e.what());
    } catch (...) {
      reply = Reply::failure(Status::internal, "unknown exception in the command handler");
    }
    if (!co_await write_reply(st, s, reply)) co_return;
  }
}

awaitable<void> run_session(SessionSlot slot, stream_protocol::socket socket) {
  ServerState& st = slot.state();
  Session s(std::move(socket));
  Registration registration(st, s);
  try {
    co_await serve(st, s, slot.peer());
  } catch (...) {
    // Nothing a client does may take beed down; the session just ends.
  }
}

awaitable<void> refuse(std::shared_ptr<ServerState> st, stream_protocol::socket socket,
                       std::string why) {
  Session s(std::move(socket));
  try {
    co_await write_reply(*st, s, Reply::failure(Status::busy, why));
  } catch (...) {
  }
}

awaitable<void> accept_loop(std::shared_ptr<ServerState> st) {
  const auto executor = co_await asio::this_coro::executor;
  for (;;) {
    auto [ec, socket] = co_await st->acceptor.async_accept(kTuple);
    if (st->stopping || !st->acceptor.is_open()) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // EMFILE and the like pass once sessions end; back off instead of spinning.
      asio::steady_timer pause(executor, std::chrono::milliseconds(100));
      co_await pause.async_wait(kTuple);
      continue;
    }
    set_cloexec(socket.native_handle());
    // Who it is decides whether there is room for it, so the credentials are
    // read now rather than when the session first reads.
    PeerCredentialsOption cred;
    socket.get_option(cred, ec);
    if (ec) continue;  // gone already: the socket closes here
    const PeerCredentials peer = cred.credentials();
    if (auto why = st->admission.admit(peer.uid)) {
      asio::co_spawn(executor, refuse(st, std::move(socket), std::move(*why)), asio::detached);
      continue;
    }
    SessionSlot slot(st, peer);
    asio::co_spawn(executor, run_session(std::move(slot), std::move(socket)), asio::detached);
  }
}

}  // namespace

Server::Server(asio::io_context& io, ServerOptions options, RequestHandler& handler)
    : impl_(std::make_unique<Impl>(
          Impl{std::make_shared<ServerState>(io, std::move(options), handler)})) {}

Server::~Server() {
  stop();
}

void Server::start() {
  ServerState& st = *impl_->state;
  if (st.started) throw std::logic_error("control server already started");
  const std::filesystem::path& path = st.options.socket_path;
  const std::string name = path.string();
  if (name.empty() || name.size() >= sizeof(sockaddr_un::sun_path))
    throw std::system_error(ENAMETOOLONG, std::generic_category(),
                            "control socket path '" + name + "' is empty or too long");
  if ((st.options.socket_mode & ~07777u) != 0 || (st.options.socket_mode & 0002u) != 0)
    throw std::system_error(EINVAL, std::generic_category(),
                            "control socket mode must not be world-writable");

  make_socket_directory(path);
  clear_stale_socket(path);

  boost::system::error_code ec;
  st.acceptor.open(stream_protocol(), ec);
  if (ec) throw_errno(ec.value(), "cannot create control socket " + name);
  set_cloexec(st.acceptor.native_handle());
  try {
    bind_socket_file(st.acceptor.native_handle(), path, st.options.socket_mode);
  } catch (...) {
    st.acceptor.close(ec);
    throw;
  }
  struct stat sb {};
  if (::stat(name.c_str(), &sb) == 0) {
    st.bound = true;
    st.socket_dev = sb.st_dev;
    st.socket_ino = sb.st_ino;
  }
  st.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    stop();
    throw_errno(ec.value(), "cannot listen on control socket " + name);
  }
  st.started = true;
  asio::co_spawn(st.io, accept_loop(impl_->state), asio::detached);
}

void Server::stop() {
  if (!impl_) return;
  ServerState& st = *impl_->state;
  if (st.stopping) return;
  st.stopping = true;
  boost::system::error_code ignored;
  st.acceptor.close(ignored);
  if (st.bound) {
    // Only our own socket: a successor may already have replaced the file.
    struct stat sb {};
    const std::string name = st.options.socket_path.string();
    if (::stat(name.c_str(), &sb) == 0 && sb.st_dev == st.socket_dev && sb.st_ino == st.socket_ino)
      ::unlink(name.c_str());
    st.bound = false;
  }
  for (Session* s : st.sessions)
    if (s->reading) s->socket.cancel(ignored);
}

}  // namespace pb::control
