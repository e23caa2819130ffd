#include "net/url.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace pb::net {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool valid_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

}  // namespace

Url Url::parse(std::string_view text) {
  Url url;
  const auto sep = text.find("://");
  if (sep == std::string_view::npos)
    throw std::invalid_argument("not an absolute URL (no scheme://)");
  url.scheme = lower(text.substr(0, sep));
  if (url.scheme != "https" && url.scheme != "http")
    throw std::invalid_argument("scheme must be http or https, not '" + url.scheme + "'");
  auto rest = text.substr(sep + 3);
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  const auto path_at = rest.find_first_of("/?");
  auto authority = rest.substr(0, path_at);
  auto tail = path_at == std::string_view::npos ? std::string_view{} : rest.substr(path_at);
  if (authority.find('@') != std::string_view::npos)
    throw std::invalid_argument("userinfo is not allowed in the URL: put credentials in a file");
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("unterminated IPv6 literal");
    url.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw std::invalid_argument("junk after IPv6 literal");
      port_text = after.substr(1);
    }
    if (url.host.empty() ||
        url.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos)
      throw std::invalid_argument("invalid IPv6 literal");
  } else {
    const auto colon = authority.rfind(':');
    url.host = lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    if (url.host.empty()) throw std::invalid_argument("no host");
    if (!std::all_of(url.host.begin(), url.host.end(), valid_host_char))
      throw std::invalid_argument("invalid character in host '" + url.host + "'");
  }
  if (url.host.empty()) throw std::invalid_argument("no host");
  url.port = url.tls() ? 443 : 80;
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535)
      throw std::invalid_argument("port out of range: '" + std::string(port_text) + "'");
    url.port = static_cast<std::uint16_t>(value);
  }
  const auto q = tail.find('?');
  url.path = std::string(tail.substr(0, q));
  if (q != std::string_view::npos) url.query = std::string(tail.substr(q + 1));
  while (!url.path.empty() && url.path.back() == '/') url.path.pop_back();
  for (char c : url.path + url.query)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      throw std::invalid_argument("space or control character in the URL");
  return url;
}

bool Url::loopback() const {
  if (host == "localhost" || host == "::1") return true;
  // An IPv4 literal in 127.0.0.0/8: a prefix test alone would let "127.example.com" in.
  in_addr address{};
  return inet_pton(AF_INET, host.c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

std::string Url::host_header() const {
  // Appended piece by piece: g++ 12 at -O3 misreads `"[" + host + "]"` (-Wrestrict).
  std::string h;
  if (host.find(':') != std::string::npos) {
    h += '[';
    h += host;
    h += ']';
  } else {
    h = host;
  }
  if (port != (tls() ? 443 : 80)) {
    h += ':';
    h += std::to_string(port);
  }
  return h;
}

std::string Url::origin() const {
  return scheme + "://" + host_header();
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace pb::net
