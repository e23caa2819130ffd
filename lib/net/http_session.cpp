#include "net/http_session.hpp"

#include <strings.h>

#include <stdexcept>
#include <utility>

#include "net/connection.hpp"
#include "net/pooled_session.hpp"
#include "net/tls_context.hpp"

namespace pb::net {

const std::string* Response::header(std::string_view name) const {
  for (const auto& h : headers)
    if (h.name.size() == name.size() && strncasecmp(h.name.data(), name.data(), name.size()) == 0)
      return &h.value;
  return nullptr;
}

std::shared_ptr<HttpSession> HttpSession::for_origin(const Url& other) const {
  throw std::invalid_argument(origin() + ": this session cannot reach " + other.origin());
}

std::string_view to_string(FailureKind kind) {
  switch (kind) {
    case FailureKind::resolve:
      return "resolve";
    case FailureKind::connect:
      return "connect";
    case FailureKind::tls:
      return "tls";
    case FailureKind::tls_verify:
      return "tls_verify";
    case FailureKind::timeout:
      return "timeout";
    case FailureKind::dropped:
      return "dropped";
    case FailureKind::too_large:
      return "too_large";
    case FailureKind::protocol:
      return "protocol";
  }
  return "unknown";
}

std::shared_ptr<HttpSession> make_http_session(boost::asio::any_io_executor io, const Url& origin,
                                               ClientOptions options) {
  // Store and warehouse requests carry access tokens: in clear text only on this host.
  if (!origin.tls() && !origin.loopback())
    throw std::invalid_argument(origin.origin() +
                                ": plain http is allowed only to a loopback address; use https");
  if (options.max_in_flight == 0) throw std::invalid_argument("max_in_flight must be at least 1");
  auto endpoint = std::make_shared<detail::Endpoint>();
  endpoint->url = origin;
  endpoint->origin = origin.origin();
  endpoint->user_agent = options.user_agent.empty() ? std::string("PackageBee/" PACKAGEBEE_VERSION)
                                                    : options.user_agent;
  if (origin.tls()) endpoint->tls = detail::make_tls_context(options.ca_file);
  endpoint->options = std::move(options);
  return std::make_shared<detail::PooledSession>(std::move(io), std::move(endpoint));
}

}  // namespace pb::net
