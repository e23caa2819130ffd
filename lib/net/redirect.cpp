#include "net/redirect.hpp"

#include <utility>

#include "net/url_reference.hpp"

namespace pb::net {

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string display_target(const Url& origin, std::string_view target) {
  const auto query = target.find('?');
  std::string out = origin.origin() + std::string(target.substr(0, query));
  if (query != std::string_view::npos && query + 1 < target.size()) out += "?...";
  return out;
}

RedirectChain::RedirectChain(Url origin, std::string target, int max_hops)
    : home_(origin), origin_(std::move(origin)), target_(std::move(target)), max_hops_(max_hops) {
  seen_.insert(origin_.origin() + target_);
}

bool RedirectChain::at_home() const {
  return same_origin(origin_, home_);
}

void RedirectChain::follow(const Response& response) {
  const std::string from = display_target(origin_, target_);
  const std::string status = "HTTP " + std::to_string(response.status);
  const auto* location = response.header("Location");
  if (location == nullptr || location->empty())
    throw RedirectError(status + " from " + from + " without a Location to follow");
  if (hops_ >= max_hops_)
    throw RedirectError("too many redirects (more than " + std::to_string(max_hops_) +
                        "), the last from " + from);
  ResolvedReference next;
  try {
    next = resolve_reference(origin_, target_, *location);
  } catch (const std::invalid_argument& e) {
    throw RedirectError(status + " from " + from +
                        " to a Location that cannot be followed: " + e.what());
  }
  const std::string to = display_target(next.origin, next.target);
  if (!next.origin.tls() && !next.origin.loopback())
    throw RedirectError(status + " from " + from + " to " + to +
                        " refused: plain http is allowed only to a loopback address");
  if (!seen_.insert(next.origin.origin() + next.target).second)
    throw RedirectError("redirect loop: " + from + " sends back to " + to);
  origin_ = std::move(next.origin);
  target_ = std::move(next.target);
  ++hops_;
}

}  // namespace pb::net
