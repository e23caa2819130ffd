#include "service/web_api.hpp"

#include <unistd.h>

#include <array>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "control/commands.hpp"
#include "log/log.hpp"

namespace pb::service {

namespace json = boost::json;
using control::Status;

namespace {

// Events are only sent for "stream" and "wait", which the API never asks for.
class NoEvents final : public control::EventSink {
 public:
  boost::asio::awaitable<bool> send(control::Event) override { co_return false; }
};

web::Reply json_reply(unsigned status, const json::value& data) {
  return {status, "application/json", json::serialize(data) + "\n"};
}

// The API's caller is beed's own user once the token checked out; before, a reader.
control::PeerCredentials peer(bool admin) {
  return admin ? control::PeerCredentials{0, ::geteuid(), ::getegid()}
               : control::PeerCredentials{0, static_cast<uid_t>(-1), static_cast<gid_t>(-1)};
}

// Adds `details`' members (the `connections` command's entry) to `entry` (status's).
void merge_details(json::object& entry, const json::array& details) {
  for (const auto& d : details) {
    const auto& detail = d.as_object();
    if (detail.at("name") != entry.at("name")) continue;
    for (const auto& [key, value] : detail)
      if (!entry.contains(key)) entry[key] = value;
  }
}

}  // namespace

unsigned http_status(Status status) {
  switch (status) {
    case Status::ok:
      return 200;
    case Status::bad_request:
      return 400;
    case Status::unknown_command:
    case Status::unknown_connection:
      return 404;
    case Status::permission_denied:
      return 403;
    case Status::invalid_config:
      return 409;
    case Status::refused:  // too many reads at once, or beed stopping: try again
    case Status::shutting_down:
    case Status::busy:
      return 503;
    case Status::internal:
      break;
  }
  return 500;
}

web::Reply json_error(unsigned status, std::string_view status_name, std::string_view message) {
  return json_reply(status, json::object{{"error", message}, {"status", status_name}});
}

control::Request control_request(const web::ApiCall& call) {
  control::Request request;
  json::object& args = request.args;
  if (!call.connection.empty()) args[control::kConnectionArg] = call.connection;
  switch (call.endpoint) {
    case web::ApiEndpoint::connections:
    case web::ApiEndpoint::connection:
      request.command = "status";
      args.clear();
      break;
    case web::ApiEndpoint::inventory:
      request.command = "inventory";
      args["limit"] = call.limit;
      if (call.sku) args["sku"] = *call.sku;
      if (call.after) args["after"] = *call.after;
      if (call.changed) args["changed"] = true;
      break;
    case web::ApiEndpoint::history:
      request.command = "history";
      args["limit"] = call.limit;
      break;
    case web::ApiEndpoint::full_sync:
      request.command = "full-sync";
      break;
    case web::ApiEndpoint::sync:
      request.command = "sync";
      break;
  }
  return request;
}

WebApi::WebApi(control::RequestHandler& handlers, web::AdminToken token)
    : handlers_(handlers), token_(std::move(token)) {}

std::optional<web::Reply> WebApi::refusal(const web::Request& request) const {
  using Verdict = web::AdminToken::Verdict;
  switch (token_.check(request.authorization)) {
    case Verdict::granted:
      return std::nullopt;
    case Verdict::read_only:
      return json_error(403, "permission_denied",
                        "this beed's web API is read-only: syncs need "
                        "daemon.http.admin_token_file in its configuration");
    case Verdict::missing: {
      auto reply = json_error(401, "unauthorized",
                              "this needs the admin token: Authorization: Bearer TOKEN");
      reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"beed\"");
      return reply;
    }
    case Verdict::wrong:
      break;
  }
  log::warn("http: {} {} refused: wrong admin token", request.method, request.path);
  auto reply = json_error(401, "unauthorized", "wrong admin token");
  reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"beed\", error=\"invalid_token\"");
  return reply;
}

boost::asio::awaitable<web::Reply> WebApi::handle(const web::Request& request) {
  auto routed = web::route_api(request.method, request.path, request.query);
  if (auto* error = std::get_if<web::ApiError>(&routed)) {
    auto reply = json_error(error->status, error->status == 404 ? "not_found" : "bad_request",
                            error->message);
    if (!error->allow.empty()) reply.headers.emplace_back("Allow", error->allow);
    co_return reply;
  }
  const auto& api_call = std::get<web::ApiCall>(routed);
  if (web::mutates(api_call.endpoint))
    if (auto refused = refusal(request)) co_return std::move(*refused);
  co_return co_await call(api_call);
}

boost::asio::awaitable<web::Reply> WebApi::call(const web::ApiCall& api_call) {
  if (api_call.endpoint == web::ApiEndpoint::connections ||
      api_call.endpoint == web::ApiEndpoint::connection)
    co_return co_await connections(api_call);
  const control::Request request = control_request(api_call);
  const auto caller = peer(web::mutates(api_call.endpoint));
  NoEvents events;
  const control::Reply reply = co_await handlers_.handle(request, caller, events);
  if (reply.status != Status::ok)
    co_return json_error(http_status(reply.status), control::to_string(reply.status), reply.error);
  // A sync is started, not done: 202, and the run's id to look for in the history.
  co_return json_reply(web::mutates(api_call.endpoint) ? 202 : 200, reply.data);
}

boost::asio::awaitable<web::Reply> WebApi::connections(const web::ApiCall& api_call) {
  const auto caller = peer(false);
  NoEvents events;
  control::Request request{control::kProtocolVersion, "status", {}};
  control::Reply status = co_await handlers_.handle(request, caller, events);
  request.command = "connections";
  const control::Reply details = co_await handlers_.handle(request, caller, events);
  for (const control::Reply* reply : std::array<const control::Reply*, 2>{&status, &details})
    if (reply->status != Status::ok)
      co_return json_error(http_status(reply->status), control::to_string(reply->status),
                           reply->error);
  auto& data = status.data.as_object();
  auto& list = data.at("connections").as_array();
  for (auto& entry : list)
    merge_details(entry.as_object(), details.data.at("connections").as_array());
  if (api_call.endpoint == web::ApiEndpoint::connections) co_return json_reply(200, data);
  for (const auto& entry : list)
    if (entry.at("name").as_string() == api_call.connection) co_return json_reply(200, entry);
  co_return json_error(404, control::to_string(Status::unknown_connection),
                       "no connection named '" + api_call.connection + "'");
}

}  // namespace pb::service
