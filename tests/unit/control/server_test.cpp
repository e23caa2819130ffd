#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include "control/client.hpp"
#include "control/socket_file.hpp"
#include "server_fixture.hpp"

using namespace pb::control;
using namespace std::chrono_literals;
using boost::asio::awaitable;
namespace json = boost::json;
using pb::test::RawClient;
using pb::test::ServerFixture;

namespace {

// echo: replies with its args; events: sends args.count progress events
// first; peer: replies with the peer's credentials; throw: throws; sleep:
// answers after args.ms milliseconds.
awaitable<Reply> test_handler(const Request& request, const PeerCredentials& peer,
                              EventSink& events) {
  if (request.command == "echo") co_return Reply::success(request.args);
  if (request.command == "events") {
    const std::int64_t count = request.args.at("count").as_int64();
    for (std::int64_t i = 0; i < count; ++i) {
      // Built outside the co_await: g++ 12 miscompiles string-literal
      // temporaries inside an awaited expression ("array used as initializer").
      Event event{"progress", json::object{{"i", i}}};
      if (!co_await events.send(std::move(event)))
        co_return Reply::failure(Status::internal, "client gone");
    }
    co_return Reply::success(json::object{{"done", true}});
  }
  if (request.command == "peer")
    co_return Reply::success(json::object{{"pid", peer.pid}, {"uid", peer.uid}, {"gid", peer.gid}});
  if (request.command == "throw") throw std::runtime_error("boom");
  if (request.command == "big")
    co_return Reply::success(json::object{
        {"s", std::string(static_cast<std::size_t>(request.args.at("n").as_int64()), 'x')}});
  if (request.command == "sleep") {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor,
                                std::chrono::milliseconds(request.args.at("ms").as_int64()));
    co_await t.async_wait(boost::asio::use_awaitable);
    co_return Reply::success();
  }
  co_return Reply::failure(Status::unknown_command, "unknown command '" + request.command + "'");
}

Request make(std::string command, json::object args = {}) {
  Request r;
  r.command = std::move(command);
  r.args = std::move(args);
  return r;
}

Reply call(const std::filesystem::path& socket, const Request& r) {
  Client c;
  c.connect(socket);
  return c.call(r);
}

bool echo_works(const std::filesystem::path& socket) {
  const Reply reply = call(socket, make("echo", {{"x", 1}}));
  return reply.status == Status::ok && reply.data == json::value(json::object{{"x", 1}});
}

mode_t file_mode(const std::filesystem::path& p) {
  struct stat sb {};
  REQUIRE(::stat(p.c_str(), &sb) == 0);
  return sb.st_mode & 07777;
}

std::string start_error(ServerFixture& f) {
  try {
    f.start();
  } catch (const std::system_error& e) {
    return e.what();
  }
  return "started";
}

}  // namespace

TEST_CASE("a request gets its reply, and a session serves several requests") {
  ServerFixture f(test_handler);
  f.start();
  Client c;
  c.connect(f.socket_path());
  const Reply first = c.call(make("echo", {{"connection", "acme"}, {"wait", true}}));
  CHECK(first.status == Status::ok);
  CHECK(json::serialize(first.data) == R"({"connection":"acme","wait":true})");
  const Reply second = c.call(make("nope"));
  CHECK(second.status == Status::unknown_command);
  CHECK(second.error == "unknown command 'nope'");
}

TEST_CASE("events arrive in order before the final reply") {
  ServerFixture f(test_handler);
  f.start();
  Client c;
  c.connect(f.socket_path());
  std::vector<std::string> seen;
  const Reply reply = c.call(make("events", {{"count", 3}}), [&](const Event& e) {
    seen.push_back(e.name + json::serialize(e.data));
  });
  CHECK(seen ==
        std::vector<std::string>{R"(progress{"i":0})", R"(progress{"i":1})", R"(progress{"i":2})"});
  CHECK(json::serialize(reply.data) == R"({"done":true})");
}

TEST_CASE("the socket file is created with mode 0660 in a new directory") {
  ServerFixture f(test_handler);
  f.start();
  CHECK(file_mode(f.socket_path()) == 0660);
}

TEST_CASE("peer credentials are the connecting process's") {
  ServerFixture f(test_handler);
  f.start();
  const Reply reply = call(f.socket_path(), make("peer"));
  REQUIRE(reply.status == Status::ok);
  CHECK(reply.data.at("pid").as_int64() == ::getpid());
  CHECK(reply.data.at("uid").as_int64() == ::getuid());
  CHECK(reply.data.at("gid").as_int64() == ::getgid());
}

TEST_CASE("malformed JSON gets bad_request, the session is closed, the server goes on") {
  ServerFixture f(test_handler);
  f.start();
  RawClient raw(f.socket_path());
  raw.send(encode_frame("{\"v\":1,"));
  const Reply reply = raw.read_reply();
  CHECK(reply.status == Status::bad_request);
  CHECK(reply.error == "malformed JSON: incomplete JSON");
  CHECK(raw.closed_within(2s));
  CHECK(echo_works(f.socket_path()));
}

TEST_CASE("an invalid request gets bad_request naming the supported versions") {
  ServerFixture f(test_handler);
  f.start();
  RawClient raw(f.socket_path());
  raw.send(encode_frame(R"({"v":9,"command":"echo"})"));
  const Reply reply = raw.read_reply();
  CHECK(reply.status == Status::bad_request);
  CHECK(reply.error == "unsupported protocol version 9 (supported: 1)");
  CHECK(raw.closed_within(2s));
}

TEST_CASE("an oversized frame is refused from its header alone, then the session closes") {
  ServerFixture f(test_handler, [](ServerOptions& o) { o.max_message_bytes = 1024; });
  f.start();
  RawClient raw(f.socket_path());
  raw.send(std::string("\x00\x00\x04\x01", 4));  // 1025 bytes announced, none sent
  const Reply reply = raw.read_reply();
  CHECK(reply.status == Status::bad_request);
  CHECK(reply.error == "frame of 1025 bytes exceeds the limit of 1024 bytes");
  CHECK(raw.closed_within(2s));
  CHECK(echo_works(f.socket_path()));
}

TEST_CASE("a zero-length frame gets bad_request") {
  ServerFixture f(test_handler);
  f.start();
  RawClient raw(f.socket_path());
  raw.send(std::string(4, '\0'));
  CHECK(raw.read_reply().error == "frame with a zero length");
  CHECK(raw.closed_within(2s));
}

TEST_CASE("silent and stalled clients are dropped after the read timeout, others are served") {
  ServerFixture f(test_handler, [](ServerOptions& o) { o.read_timeout = 300ms; });
  f.start();
  const auto begin = std::chrono::steady_clock::now();
  RawClient silent(f.socket_path());
  RawClient stalled(f.socket_path());
  stalled.send(encode_frame(R"({"v":1,"command":"echo"})").substr(0, 10));
  CHECK(echo_works(f.socket_path()));
  CHECK(std::chrono::steady_clock::now() - begin < 300ms);
  CHECK(silent.closed_within(3s));
  CHECK(stalled.closed_within(3s));
  CHECK(std::chrono::steady_clock::now() - begin >= 250ms);
  CHECK(echo_works(f.socket_path()));
}

TEST_CASE("a client that trickles bytes does not extend its deadline") {
  ServerFixture f(test_handler, [](ServerOptions& o) { o.read_timeout = 300ms; });
  f.start();
  RawClient slow(f.socket_path());
  const std::string frame = encode_frame(R"({"v":1,"command":"echo","args":{"pad":"xxxxxxxx"}})");
  const auto begin = std::chrono::steady_clock::now();
  bool dropped = false;
  for (std::size_t i = 0; i < frame.size() && !dropped; ++i) {
    try {
      slow.send(frame.substr(i, 1));
    } catch (const std::runtime_error&) {
      dropped = true;
    }
    std::this_thread::sleep_for(50ms);
  }
  CHECK(slow.closed_within(2s));
  CHECK(std::chrono::steady_clock::now() - begin < 2s);
}

TEST_CASE("an exception in the handler becomes an internal reply, not a crash") {
  ServerFixture f(test_handler);
  f.start();
  Client c;
  c.connect(f.socket_path());
  const Reply reply = c.call(make("throw"));
  CHECK(reply.status == Status::internal);
  CHECK(reply.error == "boom");
  CHECK(c.call(make("echo")).status == Status::ok);
}

TEST_CASE("clients beyond max_clients are refused while the others are served") {
  // No reserved slots: the test's own uid is beed's, which may use them.
  ServerFixture f(test_handler, [](ServerOptions& o) {
    o.max_clients = 1;
    o.reserved_clients = 0;
  });
  f.start();
  auto first = std::make_unique<RawClient>(f.socket_path());
  first->send_request(make("echo"));
  REQUIRE(first->read_reply().status == Status::ok);  // now surely counted

  RawClient second(f.socket_path());
  const Reply refused = second.read_reply();
  CHECK(refused.status == Status::busy);
  CHECK(refused.error == "too many clients");
  CHECK(second.closed_within(2s));

  // The Client still reports the refusal when beed hung up before reading.
  Client third;
  third.connect(f.socket_path());
  const Reply also_refused = third.call(make("echo"));
  CHECK(also_refused.status == Status::busy);

  first->send_request(make("echo"));
  CHECK(first->read_reply().status == Status::ok);
  first.reset();
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    served = call(f.socket_path(), make("echo")).status == Status::ok;
    if (!served) std::this_thread::sleep_for(20ms);
  }
  CHECK(served);
}

TEST_CASE("one unprivileged uid gets at most max_clients_per_uid sessions") {
  // Nobody privileged: the test's own connections count as an ordinary reader's.
  ServerFixture f(test_handler, [](ServerOptions& o) {
    o.max_clients = 10;
    o.max_clients_per_uid = 2;
    o.privileged_uids = {};
  });
  f.start();
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<RawClient>(f.socket_path()));
    held.back()->send_request(make("echo"));
    REQUIRE(held.back()->read_reply().status == Status::ok);
  }
  RawClient third(f.socket_path());
  const Reply refused = third.read_reply();
  CHECK(refused.status == Status::busy);
  CHECK(refused.error ==
        "too many connections from uid " + std::to_string(::geteuid()) + " (limit 2)");
  CHECK(third.closed_within(2s));
  // A slot given back is free again for the same uid.
  held.pop_back();
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    served = call(f.socket_path(), make("echo")).status == Status::ok;
    if (!served) std::this_thread::sleep_for(20ms);
  }
  CHECK(served);
}

TEST_CASE("a privileged uid has no per-uid cap and may use the reserved slots") {
  ServerFixture f(test_handler, [](ServerOptions& o) {
    o.max_clients = 2;
    o.max_clients_per_uid = 1;
    o.reserved_clients = 2;
    o.privileged_uids = {::geteuid()};
  });
  f.start();
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawClient>(f.socket_path()));
    held.back()->send_request(make("echo"));
    REQUIRE(held.back()->read_reply().status == Status::ok);
  }
  RawClient fifth(f.socket_path());
  const Reply refused = fifth.read_reply();
  CHECK(refused.status == Status::busy);
  CHECK(refused.error == "too many clients");
}

TEST_CASE("the socket file has its mode from bind() on, whatever the umask") {
  // No moment at which the file is more open than socket_mode: checked right
  // after bind(), before any chmod() could have fixed it.
  pb::test::TempDir dir;
  const auto path = dir.path() / "s.sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  const mode_t old = ::umask(0);
  bind_socket_file(fd, path, 0660);
  const mode_t after = ::umask(old);
  ::close(fd);
  CHECK(after == 0);  // the process umask is put back
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 07777) == 0660);
}

TEST_CASE("the server's socket is 0660 under umask 000") {
  ServerFixture f(test_handler);
  const mode_t old = ::umask(0);
  f.start();
  ::umask(old);
  struct stat st {};
  REQUIRE(::lstat(f.socket_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0660);
  CHECK(echo_works(f.socket_path()));
}

TEST_CASE("a second server on a live socket refuses to start and leaves it alone") {
  ServerFixture first(test_handler);
  first.start();
  ServerFixture second(test_handler,
                       [&](ServerOptions& o) { o.socket_path = first.socket_path(); });
  CHECK(start_error(second) == "another beed is already listening on " +
                                   first.socket_path().string() + ": Address already in use");
  CHECK(echo_works(first.socket_path()));
}

TEST_CASE("a stale socket file is replaced") {
  ServerFixture f(test_handler);
  std::filesystem::create_directories(f.socket_path().parent_path());
  {
    // A socket bound and never listened on: what a crashed beed leaves.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, f.socket_path().c_str(), sizeof(addr.sun_path) - 1);
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
    ::close(fd);
  }
  REQUIRE(std::filesystem::is_socket(f.socket_path()));
  f.start();
  CHECK(echo_works(f.socket_path()));
}

TEST_CASE("a path that is not a socket is never removed") {
  ServerFixture f(test_handler);
  std::filesystem::create_directories(f.socket_path().parent_path());
  std::ofstream(f.socket_path()) << "precious";
  CHECK(start_error(f) == f.socket_path().string() + " exists and is not a socket: File exists");
  CHECK(std::filesystem::is_regular_file(f.socket_path()));
}

TEST_CASE("a world-writable socket mode is refused") {
  ServerFixture f(test_handler, [](ServerOptions& o) { o.socket_mode = 0666; });
  CHECK(start_error(f) == "control socket mode must not be world-writable: Invalid argument");
  CHECK_FALSE(std::filesystem::exists(f.socket_path()));
}

TEST_CASE("stop removes the socket file and hangs up on idle sessions") {
  ServerFixture f(test_handler);
  f.start();
  RawClient idle(f.socket_path());
  CHECK(echo_works(f.socket_path()));
  f.stop();
  CHECK(idle.closed_within(2s));
  CHECK_FALSE(std::filesystem::exists(f.socket_path()));
}

TEST_CASE("a request being handled during stop still gets its reply") {
  ServerFixture f(test_handler);
  f.start();
  Client c;
  c.connect(f.socket_path());
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    f.stop();
  });
  const Reply reply = c.call(make("sleep", {{"ms", 300}}));
  stopper.join();
  CHECK(reply.status == Status::ok);
}

TEST_CASE("the client reports a missing socket clearly") {
  pb::test::TempDir dir;
  const auto path = dir.path() / "beed.sock";
  Client c;
  try {
    c.connect(path);
    FAIL("connected");
  } catch (const ClientError& e) {
    CHECK(e.kind() == ClientError::Kind::unreachable);
    CHECK(std::string(e.what()) == "cannot connect to beed at " + path.string() +
                                       ": No such file or directory \u2014 is beed running?");
  }
}

TEST_CASE("the client gives up on a frame after its timeout") {
  ServerFixture f(test_handler);
  f.start();
  Client c(200ms);
  c.connect(f.socket_path());
  try {
    c.call(make("sleep", {{"ms", 1000}}));
    FAIL("no timeout");
  } catch (const ClientError& e) {
    CHECK(e.kind() == ClientError::Kind::timeout);
  }
}

TEST_CASE("a client hanging up while events stream does not disturb beed") {
  ServerFixture f(test_handler);
  f.start();
  {
    RawClient gone(f.socket_path());
    gone.send_request(make("events", {{"count", 100000}}));
    REQUIRE(gone.read_frame().has_value());
  }
  CHECK(echo_works(f.socket_path()));
}

TEST_CASE("garbage from many clients at once leaves beed serving") {
  ServerFixture f(test_handler, [](ServerOptions& o) { o.read_timeout = 500ms; });
  f.start();
  std::uint32_t seed = 12345;
  const auto next_byte = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return static_cast<char>((seed >> 16) & 0xffu);
  };
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<RawClient>(f.socket_path()));
    std::string junk;
    for (int j = 0; j < 1 + i * 7; ++j) junk.push_back(next_byte());
    try {
      clients.back()->send(junk);
    } catch (const std::runtime_error&) {
      // beed may already have hung up on an earlier bad header.
    }
    if (i % 2 == 0) clients.back().reset();
  }
  CHECK(echo_works(f.socket_path()));
}

TEST_CASE("a reply over the message limit becomes an internal error the client can read") {
  ServerFixture f(test_handler, [](ServerOptions& o) { o.max_message_bytes = 1024; });
  f.start();
  Client c(Client::kDefaultFrameTimeout, 1024);
  c.connect(f.socket_path());
  const Reply reply = c.call(make("big", {{"n", 2000}}));
  CHECK(reply.status == Status::internal);
  CHECK(reply.error == "reply of 2046 bytes exceeds the message limit of 1024 bytes");
  CHECK(c.call(make("big", {{"n", 10}})).status == Status::ok);
}
