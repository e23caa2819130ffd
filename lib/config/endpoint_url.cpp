#include "config/endpoint_url.hpp"

#include <stdexcept>

#include "net/url.hpp"

namespace pb::config {

std::optional<std::string> endpoint_url_problem(const std::string& text) {
  net::Url url;
  try {
    url = net::Url::parse(text);
  } catch (const std::invalid_argument& e) {
    return std::string("not a usable URL: ") + e.what();
  }
  if (!url.tls() && !url.loopback())
    return "must be https:// (plain http is allowed only to this machine: the credentials would "
           "cross the network in clear)";
  return std::nullopt;
}

}  // namespace pb::config
