// A real control Server on a socket in a temporary directory, running on its
// own thread, with a handler scripted by the test. Shared by the control and
// cli unit tests.
#pragma once

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>

#include "../temp_dir.hpp"
#include "control/frame.hpp"
#include "control/message.hpp"
#include "control/server.hpp"

namespace pb::test {

using HandlerFunction = std::function<boost::asio::awaitable<control::Reply>(
    const control::Request&, const control::PeerCredentials&, control::EventSink&)>;

class ScriptedHandler final : public control::RequestHandler {
 public:
  explicit ScriptedHandler(HandlerFunction f) : f_(std::move(f)) {}
  boost::asio::awaitable<control::Reply> handle(const control::Request& request,
                                                const control::PeerCredentials& peer,
                                                control::EventSink& events) override {
    return f_(request, peer, events);
  }

 private:
  HandlerFunction f_;
};

class ServerFixture {
 public:
  explicit ServerFixture(HandlerFunction f, std::function<void(control::ServerOptions&)> tweak = {})
      : handler_(std::move(f)) {
    options_.socket_path = dir_.path() / "run" / "beed.sock";
    if (tweak) tweak(options_);
    server_.emplace(io_, options_, handler_);
  }
  ~ServerFixture() { stop(); }
  ServerFixture(const ServerFixture&) = delete;
  ServerFixture& operator=(const ServerFixture&) = delete;

  void start() {
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  // Returns once every session has ended and the io_context has run dry.
  void stop() {
    if (!thread_.joinable()) return;
    boost::asio::post(io_, [this] { server_->stop(); });
    thread_.join();
  }

  const std::filesystem::path& socket_path() const { return options_.socket_path; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  const control::ServerOptions& options() const { return options_; }
  boost::asio::io_context& io() { return io_; }

 private:
  TempDir dir_;
  control::ServerOptions options_;
  ScriptedHandler handler_;
  boost::asio::io_context io_;
  std::optional<control::Server> server_;
  std::thread thread_;
};

// A deliberately dumb client speaking raw bytes, to misbehave on purpose.
class RawClient {
 public:
  explicit RawClient(const std::filesystem::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0)
      throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void send_request(const control::Request& r) {
    send(control::encode_frame(boost::json::serialize(control::to_json(r))));
  }

  // The next frame's payload; nullopt if the server hung up or nothing came
  // within `timeout`.
  std::optional<std::string> read_frame(
      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buffer[4096];
    for (;;) {
      if (auto payload = decoder_.pop()) return payload;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) return std::nullopt;
      decoder_.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
    }
  }
  control::Reply read_reply() {
    std::optional<std::string> payload = read_frame();
    if (!payload) throw std::runtime_error("no reply");
    return control::parse_server_message(*payload).reply;
  }
  // True once the server has closed its end (EOF or reset) within `timeout`.
  bool closed_within(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char c;
    return ::recv(fd_, &c, 1, MSG_DONTWAIT) <= 0;
  }

 private:
  int fd_ = -1;
  control::FrameDecoder decoder_;
};

}  // namespace pb::test
