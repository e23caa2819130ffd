// The web dashboard on daemon.http's listener: its static files (web/static_site.hpp) at / and
// the JSON API (web_api.hpp) at /api/v1/. Built once at start, beside the metrics.
#pragma once

#include <filesystem>

#include "config/http_config.hpp"
#include "control/server.hpp"
#include "service/web_api.hpp"
#include "web/http_server.hpp"
#include "web/static_site.hpp"

namespace pb::service {

class WebDashboard {
 public:
  // Reads the admin token (throws std::runtime_error naming the file when it is unusable) and
  // the page's files from `web_dir` (logs what is missing; the API works without them).
  WebDashboard(control::RequestHandler& handlers, const config::HttpListenerConfig& http,
               const std::filesystem::path& web_dir = web::default_web_dir());

  // Adds the routes to `server` (before it starts); this outlives the server's requests.
  void install(web::HttpServer& server);

 private:
  web::StaticSite site_;
  WebApi api_;
};

}  // namespace pb::service
