#include "web/host_check.hpp"

#include <string>

#include <boost/asio/ip/address.hpp>

namespace pb::web {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  return true;
}

// The host part of "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT"; empty when malformed.
std::string_view host_part(std::string_view value) {
  if (value.starts_with('[')) {
    const auto close = value.find(']');
    if (close == std::string_view::npos) return {};
    const auto rest = value.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return {};
    return value.substr(1, close - 1);
  }
  return value.substr(0, value.find(':'));
}

}  // namespace

bool is_loopback_host_header(std::string_view host) {
  auto name = host_part(host);
  if (name.empty()) return false;
  if (name.ends_with('.')) name.remove_suffix(1);
  if (iequals(name, "localhost")) return true;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(name), ec);
  return !ec && address.is_loopback();
}

}  // namespace pb::web
