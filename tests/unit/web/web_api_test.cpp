// service::WebApi over a recording control handler: each API call becomes the control command
// beectl would send (args valid for the command table), the token gates actions before any
// command runs, and replies and errors have the documented JSON shapes and HTTP statuses.
#include <doctest/doctest.h>

#include <unistd.h>

#include <optional>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "control/commands.hpp"
#include "service/web_api.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using pb::control::Reply;
using pb::control::Status;

namespace {

constexpr const char* kToken = "0123456789abcdef0123";

// Answers like beed for one connection "demo"; records what it was asked.
class Recorder final : public pb::control::RequestHandler {
 public:
  std::vector<pb::control::Request> requests;
  std::vector<pb::control::PeerCredentials> peers;
  std::optional<Reply> next;  // the reply to give instead

  asio::awaitable<Reply> handle(const pb::control::Request& request,
                                const pb::control::PeerCredentials& peer,
                                pb::control::EventSink&) override {
    requests.push_back(request);
    peers.push_back(peer);
    if (next) co_return *next;
    if (request.command == "status")
      co_return Reply::success(json::object{
          {"version", "0.1.0"},
          {"connections", json::array{json::object{{"name", "demo"}, {"state", "idle"}}}}});
    if (request.command == "connections")
      co_return Reply::success(json::object{
          {"connections",
           json::array{json::object{{"name", "demo"}, {"state", "idle"}, {"store", "csv x"}}}}});
    co_return Reply::success(json::object{{"connection", "demo"}, {"run_id", 7}});
  }
};

struct Answer {
  pb::web::Reply reply;
  json::value body;
};

Answer ask(pb::service::WebApi& api, std::string method, std::string path, std::string query = {},
           std::string authorization = {}) {
  asio::io_context io;
  const pb::web::Request request{std::move(method), std::move(path), std::move(query),
                                 std::move(authorization)};
  std::optional<pb::web::Reply> out;
  asio::co_spawn(io, api.handle(request), [&](std::exception_ptr e, pb::web::Reply reply) {
    if (e) std::rethrow_exception(e);
    out = std::move(reply);
  });
  io.run();
  REQUIRE(out);
  CHECK(out->content_type == "application/json");
  return {*out, json::parse(out->body)};
}

std::string header(const pb::web::Reply& reply, std::string_view name) {
  for (const auto& [key, value] : reply.headers)
    if (key == name) return value;
  return {};
}

}  // namespace

TEST_CASE("each call's control request fits the command table") {
  using pb::web::ApiEndpoint;
  for (const auto endpoint :
       {ApiEndpoint::connections, ApiEndpoint::connection, ApiEndpoint::inventory,
        ApiEndpoint::history, ApiEndpoint::full_sync, ApiEndpoint::sync}) {
    pb::web::ApiCall call;
    call.endpoint = endpoint;
    call.connection = endpoint == ApiEndpoint::connections ? "" : "demo";
    call.limit = 10;
    call.sku = "AB*";
    call.after = "AB1";
    call.changed = true;
    const auto request = pb::service::control_request(call);
    const auto* command = pb::control::find_command(request.command);
    REQUIRE(command != nullptr);
    CHECK_MESSAGE(pb::control::validate_args(*command, request.args).empty(), request.command);
    CHECK(command->mutates == pb::web::mutates(endpoint));
  }
}

TEST_CASE("reads: the list merges status with connections, one connection, inventory args") {
  Recorder handlers;
  pb::service::WebApi api(handlers, pb::web::AdminToken(kToken));
  auto answer = ask(api, "GET", "/api/v1/connections");
  CHECK(answer.reply.status == 200);
  const auto& c = answer.body.at("connections").at(0);
  CHECK(c.at("state") == "idle");
  CHECK(c.at("store") == "csv x");
  answer = ask(api, "GET", "/api/v1/connections/demo");
  CHECK(answer.body.at("name") == "demo");
  answer = ask(api, "GET", "/api/v1/connections/other");
  CHECK(answer.reply.status == 404);
  CHECK(answer.body.at("status") == "unknown_connection");

  handlers.requests.clear();
  answer = ask(api, "GET", "/api/v1/connections/demo/inventory", "sku=AB&limit=9999&after=AB1");
  REQUIRE(handlers.requests.size() == 1);
  const auto& args = handlers.requests[0].args;
  CHECK(handlers.requests[0].command == "inventory");
  CHECK(args.at("sku") == "AB*");
  CHECK(args.at("limit").to_number<std::uint64_t>() == pb::web::kInventoryPageMax);
  CHECK(args.at("after") == "AB1");
  CHECK(handlers.peers[0].uid != ::geteuid());  // a reader, not beed's own user
}

TEST_CASE("actions: 401 without or with a wrong token, before any command, 202 with it") {
  Recorder handlers;
  pb::service::WebApi api(handlers, pb::web::AdminToken(kToken));
  auto answer = ask(api, "POST", "/api/v1/connections/demo/sync");
  CHECK(answer.reply.status == 401);
  CHECK(header(answer.reply, "WWW-Authenticate").starts_with("Bearer"));
  CHECK(answer.body.at("status") == "unauthorized");
  answer = ask(api, "POST", "/api/v1/connections/demo/sync", "", "Bearer nope-nope-nope-nope");
  CHECK(answer.reply.status == 401);
  CHECK(answer.body.at("error") == "wrong admin token");
  CHECK(handlers.requests.empty());

  answer =
      ask(api, "POST", "/api/v1/connections/demo/full-sync", "", std::string("Bearer ") + kToken);
  CHECK(answer.reply.status == 202);
  CHECK(answer.body.at("run_id") == 7);
  REQUIRE(handlers.requests.size() == 1);
  CHECK(handlers.requests[0].command == "full-sync");
  CHECK(handlers.requests[0].args.at("connection") == "demo");
  CHECK(handlers.peers[0].uid == ::geteuid());  // passes the handlers' own rights check
}

TEST_CASE("read-only: 403 for actions when no token is configured") {
  Recorder handlers;
  pb::service::WebApi api(handlers, pb::web::AdminToken{});
  const auto answer =
      ask(api, "POST", "/api/v1/connections/demo/sync", "", std::string("Bearer ") + kToken);
  CHECK(answer.reply.status == 403);
  CHECK(answer.body.at("status") == "permission_denied");
  CHECK(handlers.requests.empty());
}

TEST_CASE("control failures and routing errors as JSON with an HTTP status") {
  Recorder handlers;
  pb::service::WebApi api(handlers, pb::web::AdminToken(kToken));
  handlers.next = Reply::failure(Status::refused, "too many catalogue reads in progress");
  auto answer = ask(api, "GET", "/api/v1/connections/demo/inventory");
  CHECK(answer.reply.status == 503);
  CHECK(answer.body.at("status") == "refused");
  CHECK(answer.body.at("error") == "too many catalogue reads in progress");
  answer = ask(api, "GET", "/api/v1/connections/demo/sync");
  CHECK(answer.reply.status == 405);
  CHECK(header(answer.reply, "Allow") == "POST");
  answer = ask(api, "GET", "/api/v1/nothing");
  CHECK(answer.reply.status == 404);
  CHECK(answer.body.at("status") == "not_found");

  using pb::service::http_status;
  CHECK(http_status(Status::ok) == 200);
  CHECK(http_status(Status::bad_request) == 400);
  CHECK(http_status(Status::unknown_connection) == 404);
  CHECK(http_status(Status::permission_denied) == 403);
  CHECK(http_status(Status::busy) == 503);
  CHECK(http_status(Status::shutting_down) == 503);
  CHECK(http_status(Status::internal) == 500);
}
