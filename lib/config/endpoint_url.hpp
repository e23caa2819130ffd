// Checks an endpoint URL of the configuration (a store's API, a warehouse's feed or API) when it
// is loaded: one rule for every connector that sends credentials over HTTP.
#pragma once

#include <optional>
#include <string>

namespace pb::config {

// What is wrong with `text` as an endpoint, or nothing: it must parse as an absolute http(s)
// URL without userinfo (credentials belong in files), and be https:// unless it stays on this
// machine, so that credentials never cross the network in clear.
std::optional<std::string> endpoint_url_problem(const std::string& text);

}  // namespace pb::config
