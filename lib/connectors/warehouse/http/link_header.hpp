// The Link header of RFC 8288, as paging APIs use it (GitHub, ShipBob, Shopify REST):
// `Link: <https://api.example.com/items?page=3>; rel="next", <...>; rel="last"`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_session.hpp"

namespace pb::connectors {

struct LinkValue {
  std::string target;  // the URI-Reference between < and >, as written (may be relative)
  std::vector<std::pair<std::string, std::string>> params;  // names lower-case; values unquoted

  // The first `name` parameter's value (a parser ignores later ones, RFC 8288 section 3.3).
  const std::string* param(std::string_view name) const;
  // Whether the rel parameter, a space-separated list, holds `relation` (case-insensitive).
  bool has_rel(std::string_view relation) const;
};

// Every link of one header value, in order. Commas and semicolons inside <...> and quoted
// strings do not split. Lenient: text that is not a link is skipped up to the next comma
// outside quotes.
std::vector<LinkValue> parse_link_header(std::string_view value);

// The target of the first link with relation `relation` over all the Link headers of a
// response, or nullopt.
std::optional<std::string> find_link(const std::vector<net::Header>& headers,
                                     std::string_view relation);

}  // namespace pb::connectors
