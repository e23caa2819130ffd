// Following a URL a response names (a Link header's target): RFC 3986 reference resolution
// against the URL of the request that got the response.
#pragma once

#include <string>
#include <string_view>

#include "net/url.hpp"

namespace pb::net {

struct ResolvedReference {
  Url origin;          // scheme, host and port of where the reference points; path and query empty
  std::string target;  // the path and query to send there, starting with '/'; no fragment
};

// Resolves `reference` (absolute "https://h/p", network-path "//h/p", absolute-path "/p",
// relative-path "p" or "../p", query-only "?q", or empty) against the request sent to `base`'s
// origin with target `base_target` (RFC 3986 section 5.2, dot segments removed). Throws
// std::invalid_argument for what cannot be followed: a scheme other than http(s), userinfo, a
// bad host or port, a space or control character.
ResolvedReference resolve_reference(const Url& base, std::string_view base_target,
                                    std::string_view reference);

// Same scheme, host and port.
bool same_origin(const Url& a, const Url& b);

}  // namespace pb::net
