#include "test_server.hpp"

#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <stdexcept>

#include <doctest/doctest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace pb::test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Parses "METHOD TARGET HTTP/1.1\r\nName: value\r\n...\r\n\r\n".
void parse_head(std::string_view head, SeenRequest& request) {
  auto line_end = head.find("\r\n");
  const auto line = head.substr(0, line_end);
  const auto sp1 = line.find(' ');
  const auto sp2 = line.find(' ', sp1 + 1);
  request.method = std::string(line.substr(0, sp1));
  request.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  while (line_end + 2 < head.size()) {
    const auto start = line_end + 2;
    line_end = head.find("\r\n", start);
    const auto field = head.substr(start, line_end - start);
    if (field.empty()) break;
    const auto colon = field.find(':');
    auto value = field.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    request.headers.push_back({std::string(field.substr(0, colon)), std::string(value)});
  }
}

template <class Stream>
asio::awaitable<bool> read_request(Stream& stream, std::string& buffer, SeenRequest& request) {
  auto [ec, head_size] =
      co_await asio::async_read_until(stream, asio::dynamic_buffer(buffer), "\r\n\r\n", kTuple);
  if (ec) co_return false;
  parse_head(std::string_view(buffer).substr(0, head_size), request);
  buffer.erase(0, head_size);
  std::size_t length = 0;
  if (const auto* value = request.header("Content-Length")) length = std::stoul(*value);
  if (buffer.size() < length) {
    auto [body_ec, n] =
        co_await asio::async_read(stream, asio::dynamic_buffer(buffer),
                                  asio::transfer_exactly(length - buffer.size()), kTuple);
    if (body_ec) co_return false;
  }
  request.body = buffer.substr(0, length);
  buffer.erase(0, length);
  co_return true;
}

tcp::socket& lowest(tcp::socket& socket) {
  return socket;
}
tcp::socket& lowest(asio::ssl::stream<tcp::socket>& stream) {
  return stream.next_layer();
}

asio::awaitable<bool> handshake(tcp::socket&) {
  co_return true;
}
asio::awaitable<bool> handshake(asio::ssl::stream<tcp::socket>& stream) {
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
  co_return !ec;
}

void rethrow(const std::exception_ptr& e) {
  if (e) std::rethrow_exception(e);
}

}  // namespace

const std::string* SeenRequest::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

std::string http_reply(unsigned status, const std::string& body,
                       const std::vector<net::Header>& headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
  for (const auto& h : headers) out += h.name + ": " + h.value + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

TestServer::TestServer(asio::io_context& io, Script script, std::optional<Tls> tls,
                       const std::string& address)
    : io_(io),
      script_(std::move(script)),
      acceptor_(io, tcp::endpoint(asio::ip::make_address(address), 0)) {
  port_ = acceptor_.local_endpoint().port();
  if (tls) {
    tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    tls_->use_certificate_chain_file(tls->cert.string());
    tls_->use_private_key_file(tls->key.string(), asio::ssl::context::pem);
  }
  asio::co_spawn(io_, accept_loop(), rethrow);
}

TestServer::~TestServer() {
  stop();
}

void TestServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (auto& close : closers_) close();
  closers_.clear();
}

asio::awaitable<void> TestServer::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
    if (ec) co_return;
    const int connection = ++connections_;
    if (tls_) {
      auto stream = std::make_shared<asio::ssl::stream<tcp::socket>>(std::move(socket), *tls_);
      closers_.push_back([weak = std::weak_ptr(stream)] {
        boost::system::error_code ignored;
        if (auto s = weak.lock()) s->next_layer().close(ignored);
      });
      asio::co_spawn(io_, serve(stream, connection), rethrow);
    } else {
      auto stream = std::make_shared<tcp::socket>(std::move(socket));
      closers_.push_back([weak = std::weak_ptr(stream)] {
        boost::system::error_code ignored;
        if (auto s = weak.lock()) s->close(ignored);
      });
      asio::co_spawn(io_, serve(stream, connection), rethrow);
    }
  }
}

template <class Stream>
asio::awaitable<void> TestServer::serve(std::shared_ptr<Stream> stream, int connection) {
  if (!co_await handshake(*stream)) {
    ++failed_handshakes_;
    co_return;
  }
  std::string buffer;
  for (;;) {
    SeenRequest request;
    request.connection = connection;
    if (!co_await read_request(*stream, buffer, request)) co_return;
    requests_.push_back(request);
    max_concurrent_ = std::max(max_concurrent_, ++in_flight_);
    const Reply reply = script_(request);
    if (reply.delay.count() > 0) {
      asio::steady_timer timer(io_, reply.delay);
      co_await timer.async_wait(kTuple);
    }
    if (reply.hang) {
      char byte = 0;  // returns when the client closes (or stop() does)
      co_await lowest(*stream).async_read_some(asio::buffer(&byte, 1), kTuple);
      --in_flight_;
      co_return;
    }
    if (!reply.raw.empty()) co_await asio::async_write(*stream, asio::buffer(reply.raw), kTuple);
    --in_flight_;
    if (reply.close) {
      boost::system::error_code ignored;
      lowest(*stream).shutdown(tcp::socket::shutdown_both, ignored);
      lowest(*stream).close(ignored);
      co_return;
    }
  }
}

void run(asio::io_context& io, std::function<asio::awaitable<void>()> body,
         std::initializer_list<TestServer*> servers, std::chrono::seconds limit) {
  std::exception_ptr failure;
  bool finished = false;
  std::vector<TestServer*> to_stop(servers);
  asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    failure = e;
    finished = true;
    for (auto* server : to_stop) server->stop();
  });
  io.run_for(limit);
  REQUIRE_MESSAGE(finished, "the test did not finish within " << limit.count() << " s");
  io.restart();
  if (failure) std::rethrow_exception(failure);
}

const std::filesystem::path& test_certificates() {
  // ctest runs each test case in a process of its own, and the script takes seconds on a
  // busy machine: the certificates are made once a day, in the build tree, and shared.
  // Made aside and renamed into place, so that concurrent processes never see half a set
  // (the first rename wins; the others use its result).
  static const std::filesystem::path dir = [] {
    namespace fs = std::filesystem;
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char day[16];
    std::strftime(day, sizeof day, "%Y%m%d", &utc);
    const fs::path parent = PB_TEST_CA_PARENT;
    const fs::path shared = parent / (std::string("test-ca-") + day);
    if (fs::exists(shared / "ca.pem")) return shared;
    const fs::path mine = parent / ("test-ca.tmp" + std::to_string(::getpid()));
    const std::string command =
        std::string("'") + PB_MAKE_TEST_CA + "' '" + mine.string() + "' >/dev/null";
    REQUIRE_MESSAGE(std::system(command.c_str()) == 0, "make_test_ca.sh failed");
    std::error_code ec;
    fs::rename(mine, shared, ec);
    if (ec) fs::remove_all(mine, ec);
    // Older days' sets are no longer used by anyone.
    for (const auto& entry : fs::directory_iterator(parent, ec)) {
      const auto name = entry.path().filename().string();
      if (name.rfind("test-ca-", 0) == 0 && entry.path() != shared)
        fs::remove_all(entry.path(), ec);
    }
    return shared;
  }();
  return dir;
}

std::uint16_t closed_port() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

}  // namespace pb::test
