// A small blocking client of the control socket, for beectl: one connection,
// requests sent one at a time, a deadline on every frame.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "control/frame.hpp"
#include "control/message.hpp"

namespace pb::control {

class ClientError : public std::runtime_error {
 public:
  enum class Kind {
    unreachable,        // no socket, nobody listening, path unusable
    permission_denied,  // the socket's mode or owner keeps us out
    timeout,            // no complete frame within the per-frame timeout
    connection_lost,    // beed hung up before its reply
    protocol,           // beed sent something we cannot read
  };
  ClientError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

class Client {
 public:
  using EventCallback = std::function<void(const Event&)>;
  // Long commands with --wait get an event at least every few seconds, so one
  // timeout per frame covers them too.
  static constexpr std::chrono::milliseconds kDefaultFrameTimeout{30'000};

  explicit Client(std::chrono::milliseconds frame_timeout = kDefaultFrameTimeout,
                  std::size_t max_payload = kDefaultMaxPayloadBytes);
  ~Client();
  Client(Client&& other) noexcept;
  Client& operator=(Client&& other) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Throws ClientError (unreachable, permission_denied, timeout) naming the path.
  void connect(const std::filesystem::path& socket_path);
  bool connected() const noexcept { return fd_ >= 0; }
  void close() noexcept;

  // Sends `request`, calls `on_event` for each event frame, returns the final
  // reply (whatever its status). Throws ClientError.
  Reply call(const Request& request, const EventCallback& on_event = {});

 private:
  void send_all(std::string_view bytes);
  std::string receive_payload();

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  FrameDecoder decoder_;
  std::string path_;
};

}  // namespace pb::control
