#include "web/http_server.hpp"

#include <array>
#include <list>
#include <map>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "log/log.hpp"
#include "web/host_check.hpp"

namespace pb::web {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::State {
  State(asio::any_io_executor executor, ServerOptions opts)
      : loop(std::move(executor)), options(std::move(opts)), acceptor(loop) {}

  asio::any_io_executor loop;
  ServerOptions options;
  std::map<std::string, Handler, std::less<>> routes;
  std::vector<std::pair<std::string, RequestHandler>> prefixes;
  std::unique_ptr<asio::ssl::context> tls;
  tcp::acceptor acceptor;
  std::list<beast::tcp_stream*> open;  // every connection's socket, so that stop() closes them
  bool stopped = false;
  bool loopback = false;  // listening on a loopback address: Host must name loopback too
};

namespace {

using State = HttpServer::State;
using Request = http::request<http::string_body>;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// A connection's entry in State::open for as long as its coroutine runs.
class OpenSlot {
 public:
  OpenSlot(State& state, beast::tcp_stream& stream) : state_(state) {
    state_.open.push_front(&stream);
    it_ = state_.open.begin();
  }
  ~OpenSlot() { state_.open.erase(it_); }
  OpenSlot(const OpenSlot&) = delete;
  OpenSlot& operator=(const OpenSlot&) = delete;

 private:
  State& state_;
  std::list<beast::tcp_stream*>::iterator it_;
};

Reply error_reply(unsigned status, std::string_view text) {
  return {status, "text/plain; charset=utf-8", std::string(text) + "\n"};
}

const RequestHandler* find_prefix(const State& state, std::string_view path) {
  for (const auto& [prefix, handler] : state.prefixes)
    if (path.starts_with(prefix)) return &handler;
  return nullptr;
}

// What a prefix route's handler sees of `request`.
web::Request view_of(const Request& request, std::string_view target) {
  const auto mark = target.find('?');
  web::Request view;
  view.method = std::string(request.method_string());
  view.path = std::string(target.substr(0, mark));
  if (mark != std::string_view::npos) view.query = std::string(target.substr(mark + 1));
  if (const auto it = request.find(http::field::authorization); it != request.end())
    view.authorization = std::string(it->value());
  return view;
}

// The reply to a well-formed request: an exact route for GET and HEAD (405 for another
// method), else a prefix route, else 404; 500 if the handler throws.
asio::awaitable<Reply> dispatch(State& state, const Request& request) {
  const std::string_view target(request.target().data(), request.target().size());
  if (!target.starts_with('/')) co_return error_reply(400, "400 bad request target");
  if (const auto host = request.find(http::field::host);
      state.loopback && host != request.end() && !is_loopback_host_header(host->value()))
    co_return error_reply(421,
                          "421 misdirected request: this listener answers to localhost, 127.0.0.1 "
                          "and [::1] only");
  const auto path = target.substr(0, target.find('?'));
  try {
    if (const auto route = state.routes.find(path); route != state.routes.end()) {
      if (request.method() != http::verb::get && request.method() != http::verb::head)
        co_return error_reply(405, "405 method not allowed: use GET or HEAD");
      const Handler handler = route->second;
      co_return co_await handler();
    }
    if (const auto* prefix = find_prefix(state, path)) {
      const RequestHandler handler = *prefix;
      const web::Request view = view_of(request, target);
      co_return co_await handler(view);
    }
    co_return error_reply(404, "404 not found");
  } catch (const std::exception& e) {
    log::warn("http: {} failed: {}", path, e.what());
  }
  co_return error_reply(500, "500 internal error");
}

http::response<http::string_body> make_response(Reply reply, unsigned version, bool head,
                                                bool keep_alive) {
  http::response<http::string_body> response{static_cast<http::status>(reply.status), version};
  response.set(http::field::server, "PackageBee/" PACKAGEBEE_VERSION);
  response.set(http::field::content_type, reply.content_type);
  response.set(http::field::cache_control, reply.cache_control);
  response.set("X-Content-Type-Options", "nosniff");
  response.set("X-Frame-Options", "DENY");
  response.set("Referrer-Policy", "no-referrer");
  response.set("Content-Security-Policy", kContentSecurityPolicy);
  for (const auto& [name, value] : reply.headers) response.set(name, value);
  if (reply.status == 405 && response.find(http::field::allow) == response.end())
    response.set(http::field::allow, "GET, HEAD");
  response.keep_alive(keep_alive);
  // HEAD: the length GET would send, no body.
  response.content_length(reply.body.size());
  if (!head) response.body() = std::move(reply.body);
  return response;
}

// Reads requests and answers them until the client closes, a deadline passes, or a request
// cannot be parsed (answered, then closed). Stream: beast::tcp_stream or an ssl_stream on one.
template <class Stream>
asio::awaitable<void> serve(std::shared_ptr<State> state, Stream& stream) {
  const ServerOptions& options = state->options;
  auto& tcp = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer(options.max_header_bytes + options.max_body_bytes + 4096);
  for (bool first = true;; first = false) {
    // Until the first byte: the idle timeout (keep-alive) or, for a new connection, the request
    // deadline. From the first byte, the whole request must arrive within the deadline.
    tcp.expires_after(first ? options.request_timeout : options.idle_timeout);
    if (buffer.size() == 0) {
      const auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
      if (ec) co_return;
      buffer.commit(n);
    }
    tcp.expires_after(options.request_timeout);
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    parser.body_limit(options.max_body_bytes);
    const auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
    Reply reply;
    bool keep_alive = false, head = false;
    unsigned version = 11;
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      reply = error_reply(431, "431 request header fields too large");
    } else if (ec == http::error::body_limit) {
      reply = error_reply(413, "413 content too large");
    } else if (ec == beast::error::timeout || ec == http::error::end_of_stream ||
               ec == asio::error::eof || ec == asio::error::operation_aborted) {
      co_return;  // a client too slow, gone, or beed stopping: nobody to answer
    } else if (ec) {
      reply = error_reply(400, "400 bad request");
    } else {
      const Request& request = parser.get();
      keep_alive = request.keep_alive();
      head = request.method() == http::verb::head;
      version = request.version();
      reply = co_await dispatch(*state, request);
    }
    if (state->stopped) co_return;
    auto response = make_response(std::move(reply), version, head, keep_alive);
    tcp.expires_after(options.write_timeout);
    const auto [write_ec, written] = co_await http::async_write(stream, response, kTuple);
    if (write_ec || !keep_alive) co_return;
  }
}

asio::awaitable<void> run_plain(std::shared_ptr<State> state, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  const OpenSlot slot(*state, stream);
  co_await serve(state, stream);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  // A lingering close: a client still sending (the rest of an oversized request) would get a
  // reset on close() and could lose the answer; read and drop what comes, briefly and boundedly.
  stream.expires_after(std::chrono::seconds(2));
  std::array<char, 4096> sink;
  for (std::size_t drained = 0; drained < (std::size_t{1} << 20);) {
    const auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
    if (ec) break;
    drained += n;
  }
}

asio::awaitable<void> run_tls(std::shared_ptr<State> state, tcp::socket socket) {
  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *state->tls);
  auto& tcp = beast::get_lowest_layer(stream);
  const OpenSlot slot(*state, tcp);
  tcp.expires_after(state->options.request_timeout);
  const auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
  if (ec) co_return;
  co_await serve(state, stream);
  tcp.expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(kTuple);
}

asio::awaitable<void> run_connection(std::shared_ptr<State> state, tcp::socket socket) {
  try {
    if (state->tls)
      co_await run_tls(state, std::move(socket));
    else
      co_await run_plain(state, std::move(socket));
  } catch (const std::exception& e) {
    log::debug("http: connection ended: {}", e.what());
  }
}

asio::awaitable<void> accept_loop(std::shared_ptr<State> state) {
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(kTuple);
    if (state->stopped) co_return;
    if (ec) {
      // Out of descriptors, say: wait rather than spin on the same error.
      log::warn("http: accept failed: {}", ec.message());
      asio::steady_timer backoff(state->loop, std::chrono::milliseconds(200));
      co_await backoff.async_wait(kTuple);
      continue;
    }
    if (state->open.size() >= state->options.max_connections) {
      log::debug("http: {} connections open; one more refused", state->open.size());
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    asio::co_spawn(state->loop, run_connection(state, std::move(socket)), asio::detached);
  }
}

std::unique_ptr<asio::ssl::context> make_tls(const ServerOptions& options) {
  auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  beast::error_code ec;
  tls->use_certificate_chain_file(options.tls_cert_file.string(), ec);
  if (ec)
    throw std::runtime_error("cannot load the TLS certificate " + options.tls_cert_file.string() +
                             ": " + ec.message());
  tls->use_private_key_file(options.tls_key_file.string(), asio::ssl::context::pem, ec);
  if (ec)
    throw std::runtime_error("cannot load the TLS key " + options.tls_key_file.string() + ": " +
                             ec.message());
  return tls;
}

}  // namespace

HttpServer::HttpServer(asio::any_io_executor loop, ServerOptions options)
    : state_(std::make_shared<State>(std::move(loop), std::move(options))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(std::string path, Handler handler) {
  state_->routes.insert_or_assign(std::move(path), std::move(handler));
}

void HttpServer::route_prefix(std::string prefix, RequestHandler handler) {
  state_->prefixes.emplace_back(std::move(prefix), std::move(handler));
}

void HttpServer::start() {
  const auto& options = state_->options;
  if (!options.tls_cert_file.empty()) state_->tls = make_tls(options);
  beast::error_code ec;
  const auto address = asio::ip::make_address(options.host, ec);
  const tcp::endpoint endpoint(address, options.port);
  auto& acceptor = state_->acceptor;
  if (!ec) acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  state_->loopback = !ec && address.is_loopback();
  if (ec) {
    beast::error_code ignored;
    acceptor.close(ignored);
    throw std::runtime_error("cannot listen on " + describe() + ": " + ec.message());
  }
  asio::co_spawn(state_->loop, accept_loop(state_), asio::detached);
}

void HttpServer::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  beast::error_code ignored;
  state_->acceptor.close(ignored);
  for (auto* stream : state_->open) stream->socket().close(ignored);
}

std::uint16_t HttpServer::port() const {
  beast::error_code ec;
  const auto endpoint = state_->acceptor.local_endpoint(ec);
  return ec ? state_->options.port : endpoint.port();
}

std::size_t HttpServer::connections() const {
  return state_->open.size();
}

std::string HttpServer::describe() const {
  const auto& host = state_->options.host;
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(state_->tls || !state_->options.tls_cert_file.empty() ? "https" : "http") +
         "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port());
}

}  // namespace pb::web
