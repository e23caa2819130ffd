#include "net/request_check.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pb::net::detail {
namespace {

// RFC 9110 tchar: what a method or a header name may hold.
bool is_token(std::string_view text) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
           kSpecials.find(c) != std::string_view::npos;
  });
}

// Visible ASCII, or any byte >= 0x80 (obs-text) for values; no controls but tab.
bool is_field_value(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7f;
  });
}

bool is_target(std::string_view text) {
  return !text.empty() && text.front() == '/' && std::none_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u >= 0x7f;
  });
}

}  // namespace

void check_request(const Request& request) {
  if (!is_token(request.method))
    throw std::invalid_argument("invalid HTTP method '" + request.method + "'");
  if (!is_target(request.target))
    throw std::invalid_argument(
        "the request target must start with '/' and hold no spaces or "
        "control characters");
  for (std::size_t i = 0; i < request.headers.size(); ++i) {
    const auto& header = request.headers[i];
    // Not quoted: a malformed name may be a whole "Authorization: Bearer ..." line.
    if (!is_token(header.name))
      throw std::invalid_argument("invalid HTTP header name (header " + std::to_string(i + 1) +
                                  " of the request)");
    if (!is_field_value(header.value))
      throw std::invalid_argument("control character in the value of header '" + header.name + "'");
  }
}

}  // namespace pb::net::detail
