// Following the redirects (301, 302, 303, 307, 308) of a GET: where each one points, and the
// rules of the chain: at most a few hops, no loop, plain http only to loopback (as for a
// configured URL), and whether the request is still at the origin its credentials are for.
#pragma once

#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include "net/http_session.hpp"
#include "net/url.hpp"

namespace pb::net {

// As curl and browsers: enough for a moved feed behind a CDN, few enough to stop a loop soon.
constexpr int kMaxRedirects = 5;

// 301, 302, 303, 307 or 308 (not 300, whose Location is only a suggestion, nor 304).
bool is_redirect(unsigned status);

// A redirect that is not followed; the message says why and names the URLs without their
// queries (they may hold a key).
class RedirectError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "https://h/p" or "https://h/p?..." when there is a query: a URL fit for messages.
std::string display_target(const Url& origin, std::string_view target);

// The hops of one GET, from the configured URL.
class RedirectChain {
 public:
  RedirectChain(Url origin, std::string target, int max_hops = kMaxRedirects);

  // After `response`, a redirect, to the request at origin() and target(): moves there.
  // Throws RedirectError for a redirect without a usable Location, to plain http off
  // loopback, back to a URL of this chain (a loop), or past max_hops.
  void follow(const Response& response);

  const Url& origin() const { return origin_; }
  const std::string& target() const { return target_; }
  // At the first request's origin (scheme, host and port): only there may credentials go.
  bool at_home() const;
  int hops() const { return hops_; }

 private:
  Url home_;
  Url origin_;
  std::string target_;
  std::set<std::string> seen_;  // origin + target of every request of the chain
  int max_hops_;
  int hops_ = 0;
};

}  // namespace pb::net
