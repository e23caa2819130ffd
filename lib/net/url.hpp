// An absolute http(s) URL split into what a connection needs. Only the forms a
// store or warehouse endpoint uses: scheme://host[:port][/path][?query].
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pb::net {

struct Url {
  std::string scheme;  // "https" or "http"
  std::string host;    // without brackets for IPv6 literals
  std::uint16_t port = 0;
  std::string path;   // "" or "/..." without a trailing slash; query kept separately
  std::string query;  // without the '?'

  // Throws std::invalid_argument naming what is wrong ("no host", "scheme must be http or
  // https", "port out of range", "userinfo is not allowed: put credentials in a file").
  static Url parse(std::string_view text);

  bool tls() const { return scheme == "https"; }
  // True for localhost, 127.0.0.0/8 and ::1: plain http is allowed only there (tests,
  // benchmarks, a local proxy), so that credentials never cross a network in clear.
  bool loopback() const;
  // "https://shop.example.com" (port shown only when not the default).
  std::string origin() const;
  // The Host header value: host, plus ":port" when not the default; IPv6 in brackets.
  std::string host_header() const;
};

// Percent-encodes a query-string component (RFC 3986 unreserved characters pass).
std::string url_encode(std::string_view text);

}  // namespace pb::net
