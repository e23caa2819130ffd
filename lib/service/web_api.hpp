// The JSON API under /api/v1/ (docs/HTTP-API.md): each call is the control protocol's command
// with the same arguments, answered by the same handlers as beectl's (CommandHandlers), so
// the web page and beectl cannot disagree; this file only maps URLs, the admin token and
// reply statuses to HTTP.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "control/message.hpp"
#include "control/server.hpp"
#include "web/admin_token.hpp"
#include "web/api_routes.hpp"
#include "web/http_server.hpp"

namespace pb::service {

// The HTTP status for a control reply's status (ok: 200).
unsigned http_status(control::Status status);
// {"error": "...", "status": "unknown_connection"}: every API error has this shape.
web::Reply json_error(unsigned http_status, std::string_view status_name, std::string_view message);

// The control request an API call stands for (for `connection`: "status"; the caller adds
// "connections"). `args` follow the command table, so the handlers' checks apply unchanged.
control::Request control_request(const web::ApiCall& call);

class WebApi {
 public:
  // `handlers` answers control requests (beed's CommandHandlers); it outlives this.
  WebApi(control::RequestHandler& handlers, web::AdminToken token);

  // Any request under /api/: routing errors, the token check on calls that change state, then
  // the command.
  boost::asio::awaitable<web::Reply> handle(const web::Request& request);

 private:
  boost::asio::awaitable<web::Reply> call(const web::ApiCall& call);
  // GET /api/v1/connections[/NAME]: `status` with each connection's `connections` entry merged.
  boost::asio::awaitable<web::Reply> connections(const web::ApiCall& call);
  // The refusal for a call that changes state, or nothing when the token is good.
  std::optional<web::Reply> refusal(const web::Request& request) const;

  control::RequestHandler& handlers_;
  web::AdminToken token_;
};

}  // namespace pb::service
