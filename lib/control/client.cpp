#include "control/client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include <boost/json/serialize.hpp>

namespace pb::control {
namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(int err) {
  return std::strerror(err);
}

// Waits for `events` on fd until `deadline`; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 60'000)));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR)
      throw ClientError(ClientError::Kind::connection_lost, "poll: " + errno_text(errno));
  }
}

}  // namespace

Client::Client(std::chrono::milliseconds frame_timeout, std::size_t max_payload)
    : timeout_(frame_timeout), decoder_(max_payload) {}

Client::~Client() {
  close();
}

Client::Client(Client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      timeout_(other.timeout_),
      decoder_(std::move(other.decoder_)),
      path_(std::move(other.path_)) {}

Client& Client::operator=(Client&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    timeout_ = other.timeout_;
    decoder_ = std::move(other.decoder_);
    path_ = std::move(other.path_);
  }
  return *this;
}

void Client::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  decoder_ = FrameDecoder(decoder_.max_payload());
}

void Client::connect(const std::filesystem::path& socket_path) {
  close();
  path_ = socket_path.string();
  const std::string prefix = "cannot connect to beed at " + path_ + ": ";
  sockaddr_un addr{};
  if (path_.empty() || path_.size() >= sizeof(addr.sun_path))
    throw ClientError(ClientError::Kind::unreachable, prefix + "path is empty or too long");
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ClientError(ClientError::Kind::unreachable, prefix + errno_text(errno));
  // A blocking connect waits while beed's backlog is full; SO_SNDTIMEO bounds
  // that wait (Linux applies it to connect on Unix sockets).
  const auto ms = timeout_.count();
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    ::close(fd);
    switch (err) {
      case ENOENT:
      case ECONNREFUSED:
        throw ClientError(ClientError::Kind::unreachable,
                          prefix + errno_text(err) + " \u2014 is beed running?");
      case EACCES:
      case EPERM:
        throw ClientError(
            ClientError::Kind::permission_denied,
            prefix + errno_text(err) + " \u2014 is your user in the control socket's group?");
      case EAGAIN:
      case EINPROGRESS:
        throw ClientError(ClientError::Kind::timeout, prefix + "timed out (beed is busy)");
      default:
        throw ClientError(ClientError::Kind::unreachable, prefix + errno_text(err));
    }
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  fd_ = fd;
}

void Client::send_all(std::string_view bytes) {
  const Clock::time_point deadline = Clock::now() + timeout_;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (!wait_for(fd_, POLLOUT, deadline))
        throw ClientError(ClientError::Kind::timeout,
                          "timed out sending a request to beed at " + path_);
      continue;
    }
    throw ClientError(ClientError::Kind::connection_lost,
                      "lost the connection to beed at " + path_ + ": " + errno_text(errno));
  }
}

std::string Client::receive_payload() {
  const Clock::time_point deadline = Clock::now() + timeout_;
  std::array<char, 64 * 1024> buffer;
  for (;;) {
    if (std::optional<std::string> payload = decoder_.pop()) return std::move(*payload);
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n > 0) {
      try {
        decoder_.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
      } catch (const ProtocolError& e) {
        throw ClientError(ClientError::Kind::protocol,
                          std::string("bad frame from beed: ") + e.what());
      }
      continue;
    }
    if (n == 0)
      throw ClientError(ClientError::Kind::connection_lost,
                        "beed at " + path_ + " closed the connection before replying");
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (!wait_for(fd_, POLLIN, deadline))
        throw ClientError(ClientError::Kind::timeout,
                          "timed out waiting for beed at " + path_ + " (no message in " +
                              std::to_string(timeout_.count() / 1000) + " s)");
      continue;
    }
    throw ClientError(ClientError::Kind::connection_lost,
                      "lost the connection to beed at " + path_ + ": " + errno_text(errno));
  }
}

Reply Client::call(const Request& request, const EventCallback& on_event) {
  if (fd_ < 0) throw ClientError(ClientError::Kind::connection_lost, "not connected to beed");
  try {
    send_all(encode_frame(boost::json::serialize(to_json(request))));
  } catch (const ClientError& e) {
    // beed may have answered (e.g. "too many clients") and hung up before
    // reading our request: that answer is worth more than EPIPE.
    if (e.kind() != ClientError::Kind::connection_lost) throw;
    try {
      const ServerMessage m = parse_server_message(receive_payload());
      if (!m.is_event) return m.reply;
    } catch (const std::exception&) {
    }
    throw;
  }
  for (;;) {
    ServerMessage message;
    try {
      message = parse_server_message(receive_payload());
    } catch (const ProtocolError& e) {
      throw ClientError(ClientError::Kind::protocol,
                        std::string("bad message from beed: ") + e.what());
    }
    if (!message.is_event) return message.reply;
    if (on_event) on_event(message.event);
  }
}

}  // namespace pb::control
