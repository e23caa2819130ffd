#include "service/web_dashboard.hpp"

#include <sys/stat.h>

#include "log/log.hpp"

namespace pb::service {

namespace {

web::AdminToken load_token(const config::HttpListenerConfig& http) {
  if (http.admin_token_file.empty()) return {};
  struct stat st {};
  if (::stat(http.admin_token_file.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0)
    log::warn("daemon.http.admin_token_file {} is readable by every user: chmod o-r it",
              http.admin_token_file.string());
  return web::AdminToken::from_file(http.admin_token_file);
}

}  // namespace

WebDashboard::WebDashboard(control::RequestHandler& handlers,
                           const config::HttpListenerConfig& http,
                           const std::filesystem::path& web_dir)
    : site_(web::StaticSite::load(web_dir)), api_(handlers, load_token(http)) {
  for (const auto& problem : site_.missing())
    log::warn("web dashboard: {}/{} (set PACKAGEBEE_WEB_DIR to the directory of its files)",
              web_dir.string(), problem);
  log::info("web dashboard {}; syncs over HTTP {}",
            site_.missing().empty() ? "from " + web_dir.string() : std::string("incomplete"),
            http.admin_token_file.empty() ? "off (no admin_token_file)" : "need the admin token");
}

void WebDashboard::install(web::HttpServer& server) {
  for (const auto& file : web::StaticSite::files()) {
    const std::string url(file.url);
    server.route(url, [this, url]() -> boost::asio::awaitable<web::Reply> {
      if (auto reply = site_.find(url)) co_return std::move(*reply);
      co_return web::Reply(
          503, "text/plain; charset=utf-8",
          "503 the web dashboard's files are not installed in " + site_.dir().string() + "\n");
    });
  }
  server.route_prefix("/api/",
                      [this](const web::Request& request) { return api_.handle(request); });
}

}  // namespace pb::service
