#include "net/connection.hpp"

#include <poll.h>
#include <strings.h>

#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/system_error.hpp>

#include "net/tls_context.hpp"
#include "net/transport_errors.hpp"

namespace pb::net::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Beast's default of 8 KiB is too tight for some APIs' headers (long Link and cookie lines).
constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;

[[noreturn]] void fail(const Endpoint& endpoint, Phase phase, const error_code& ec) {
  // Cancelled by the caller (per-operation cancellation): not a transport failure, and
  // not to be retried.
  if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
  const bool connecting =
      phase == Phase::resolve || phase == Phase::connect || phase == Phase::handshake;
  const FailureContext context{
      endpoint.origin, phase,
      connecting ? endpoint.options.connect_timeout : endpoint.options.request_timeout,
      endpoint.options.max_response_bytes};
  throw transport_error(context, ec);
}

// A name lookup runs on Asio's resolver thread and cannot be interrupted (Boost 1.81
// has no per-operation cancellation for it, and cancel() does not stop a getaddrinfo
// under way): the deadline abandons it instead, and the shared state outlives the wait.
struct Lookup {
  Lookup(const asio::any_io_executor& io, Clock::time_point deadline)
      : resolver(io), wake(io, deadline) {}
  tcp::resolver resolver;
  asio::steady_timer wake;
  bool done = false;
  error_code ec;
  tcp::resolver::results_type results;
};

asio::awaitable<std::vector<tcp::endpoint>> resolve(asio::any_io_executor io,
                                                    const Endpoint& endpoint,
                                                    Clock::time_point deadline) {
  error_code not_ip;
  const auto address = asio::ip::make_address(endpoint.url.host, not_ip);
  if (!not_ip) co_return std::vector<tcp::endpoint>{tcp::endpoint(address, endpoint.url.port)};

  auto lookup = std::make_shared<Lookup>(io, deadline);
  lookup->resolver.async_resolve(endpoint.url.host, std::to_string(endpoint.url.port),
                                 [lookup](error_code ec, tcp::resolver::results_type results) {
                                   lookup->done = true;
                                   lookup->ec = ec;
                                   lookup->results = std::move(results);
                                   lookup->wake.cancel();
                                 });
  auto [wait_ec] = co_await lookup->wake.async_wait(kTuple);
  if (!lookup->done) {
    lookup->resolver.cancel();
    fail(endpoint, Phase::resolve, wait_ec ? wait_ec : error_code(beast::error::timeout));
  }
  if (lookup->ec) fail(endpoint, Phase::resolve, lookup->ec);
  std::vector<tcp::endpoint> endpoints;
  for (const auto& entry : lookup->results) endpoints.push_back(entry.endpoint());
  co_return endpoints;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

http::request<http::string_body> to_beast(const Endpoint& endpoint, const Request& request) {
  http::request<http::string_body> message;
  message.version(11);
  message.method_string(request.method);
  message.target(request.target);
  message.set(http::field::host, endpoint.url.host_header());
  message.set(http::field::user_agent, endpoint.user_agent);
  for (const auto& header : request.headers) {
    // The framing is ours: a caller's length or Host could only contradict it.
    if (iequals(header.name, "Host") || iequals(header.name, "Content-Length") ||
        iequals(header.name, "Transfer-Encoding"))
      continue;
    if (iequals(header.name, "User-Agent"))
      message.set(http::field::user_agent, header.value);
    else
      message.insert(header.name, header.value);
  }
  message.body() = request.body;
  message.prepare_payload();
  return message;
}

Response from_beast(http::response<http::string_body>&& message) {
  Response response;
  response.status = message.result_int();
  for (const auto& field : message)
    response.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  response.body = std::move(message.body());
  return response;
}

template <class Stream>
class BasicConnection final : public Connection {
 public:
  template <class... Args>
  explicit BasicConnection(std::shared_ptr<const Endpoint> endpoint, Args&&... args)
      : endpoint_(std::move(endpoint)), stream_(std::forward<Args>(args)...) {}

  Stream& stream() { return stream_; }

  asio::awaitable<Response> exchange(const Request& request) override {
    failed_unanswered_ = false;
    reusable_ = false;
    const Endpoint& endpoint = *endpoint_;
    auto message = to_beast(endpoint, request);
    auto& tcp_layer = beast::get_lowest_layer(stream_);
    // One deadline for the write and the whole read: tcp_stream keeps the expiry for
    // every operation started until it is changed.
    tcp_layer.expires_after(endpoint.options.request_timeout);

    auto [write_ec, written] = co_await http::async_write(stream_, message, kTuple);
    if (write_ec) {
      // A write that failed was not complete, so the server cannot have acted on it.
      failed_unanswered_ = write_ec != beast::error::timeout;
      fail(endpoint, Phase::write, write_ec);
    }

    std::optional<http::response_parser<http::string_body>> parser;
    do {  // an interim 1xx response (100 Continue, 103 Early Hints) precedes the real one
      parser.emplace();
      parser->body_limit(endpoint.options.max_response_bytes);
      parser->header_limit(kMaxHeaderBytes);
      if (request.method == "HEAD") parser->skip(true);
      auto [read_ec, read] = co_await http::async_read(stream_, buffer_, *parser, kTuple);
      if (read_ec) {
        // Closed or reset before the first byte of an answer: the usual fate of an idle
        // connection the server timed out as the request went out. (It could also be a
        // server that died processing the request; HTTP clients retry both alike.)
        failed_unanswered_ = !parser->got_some() && (read_ec == http::error::end_of_stream ||
                                                     read_ec == asio::error::connection_reset ||
                                                     read_ec == asio::ssl::error::stream_truncated);
        fail(endpoint, Phase::read, read_ec);
      }
    } while (parser->get().result_int() / 100 == 1 && parser->get().result_int() != 101);

    tcp_layer.expires_never();
    auto& response = parser->get();
    reusable_ = response.keep_alive() && !response.need_eof() && buffer_.size() == 0 &&
                response.result_int() != 101;
    co_return from_beast(parser->release());
  }

  bool failed_unanswered() const override { return failed_unanswered_; }
  bool reusable() const override { return reusable_; }

  bool closed_by_peer() override {
    // An idle HTTP/1.1 connection has nothing to read: readable means EOF, a reset or
    // bytes nobody asked for, and the connection is done with either way.
    pollfd poll_fd{};
    poll_fd.fd = beast::get_lowest_layer(stream_).socket().native_handle();
    poll_fd.events = POLLIN;
    return ::poll(&poll_fd, 1, 0) != 0;
  }

 private:
  std::shared_ptr<const Endpoint> endpoint_;
  Stream stream_;
  beast::flat_buffer buffer_;
  bool failed_unanswered_ = false;
  bool reusable_ = false;
};

using PlainConnection = BasicConnection<beast::tcp_stream>;
using TlsConnection = BasicConnection<asio::ssl::stream<beast::tcp_stream>>;

asio::awaitable<void> handshake(TlsConnection& connection, const Endpoint& endpoint,
                                Clock::time_point deadline) {
  auto& stream = connection.stream();
  set_server_name(stream.native_handle(), endpoint.url.host);
  stream.set_verify_callback(PeerNameCheck(endpoint.url.host));
  beast::get_lowest_layer(stream).expires_at(deadline);
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kTuple);
  if (ec) {
    if (const auto reason = verify_failure_reason(stream.native_handle()); !reason.empty())
      throw tls_verify_error(endpoint.origin, reason);
    fail(endpoint, Phase::handshake, ec);
  }
  beast::get_lowest_layer(stream).expires_never();
}

}  // namespace

asio::awaitable<std::unique_ptr<Connection>> Connection::open(
    asio::any_io_executor io, std::shared_ptr<const Endpoint> endpoint) {
  const auto deadline = Clock::now() + endpoint->options.connect_timeout;
  const auto addresses = co_await resolve(io, *endpoint, deadline);

  beast::tcp_stream tcp_stream(io);
  tcp_stream.expires_at(deadline);
  auto [connect_ec, peer] = co_await tcp_stream.async_connect(addresses, kTuple);
  if (connect_ec) fail(*endpoint, Phase::connect, connect_ec);
  // Requests are written whole: Nagle would only delay the last segment.
  error_code ignored;
  tcp_stream.socket().set_option(tcp::no_delay(true), ignored);
  tcp_stream.expires_never();

  if (!endpoint->tls) co_return std::make_unique<PlainConnection>(endpoint, std::move(tcp_stream));
  auto connection =
      std::make_unique<TlsConnection>(endpoint, std::move(tcp_stream), *endpoint->tls);
  co_await handshake(*connection, *endpoint, deadline);
  co_return std::unique_ptr<Connection>(std::move(connection));
}

}  // namespace pb::net::detail
