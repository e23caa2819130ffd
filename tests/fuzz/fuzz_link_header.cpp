// libFuzzer target for the Link header parser (RFC 8288) and the resolution of the targets it
// finds against a request (RFC 3986 section 5.2), as http-json paging follows them. Input: the
// request target on the first line, then the header value. Checks that every resolved target
// is a path (no dot segments left) with no space or control character; only
// std::invalid_argument (a reference that cannot be followed) is an expected failure.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/warehouse/http/link_header.hpp"
#include "net/url.hpp"
#include "net/url_reference.hpp"

namespace {

// A target a session would send (request_check.hpp), with no dot segment left in its path.
bool clean_target(std::string_view target) {
  if (target.empty() || target.front() != '/') return false;
  for (const char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '#') return false;
  }
  const std::string_view path = target.substr(0, target.find('?'));
  for (std::size_t at = 0; at < path.size();) {
    auto end = path.find('/', at + 1);
    if (end == std::string_view::npos) end = path.size();
    const auto segment = path.substr(at + 1, end - at - 1);
    if (segment == "." || segment == "..") return false;
    at = end;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  // The base is a target that was sent: resolved before, or the configured URL's.
  std::string base_target(input.substr(0, newline));
  if (!clean_target(base_target)) base_target = "/v1/items?page=1";
  const std::string_view value = input.substr(newline + 1);

  static const auto base = pb::net::Url::parse("https://api.example.com");
  for (const auto& link : pb::connectors::parse_link_header(value)) {
    try {
      const auto resolved = pb::net::resolve_reference(base, base_target, link.target);
      // Bytes >= 0x7f pass resolution (the session refuses them when sending).
      std::string shown = resolved.target;
      for (char& c : shown)
        if (static_cast<unsigned char>(c) >= 0x7f) c = 'x';
      if (!clean_target(shown)) __builtin_trap();
    } catch (const std::invalid_argument&) {
    }
    (void)link.has_rel("next");
  }
  const std::vector<pb::net::Header> headers{{"Link", std::string(value)}};
  (void)pb::connectors::find_link(headers, "next");
  return 0;
}
