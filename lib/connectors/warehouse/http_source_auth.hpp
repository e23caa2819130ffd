// The credentials of a warehouse read over HTTP(S) (bearer token or HTTP Basic), read from
// their files at each run, and kept out of every message.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "net/http_session.hpp"

namespace pb::connectors {

class HttpSourceCredentials {
 public:
  HttpSourceCredentials() = default;  // no authentication

  // Reads the files `auth` names (blocking: call it on the worker pool). Throws WarehouseError
  // starting with `origin` and naming the key and file, never the content.
  static HttpSourceCredentials load(const config::HttpAuthConfig& auth, std::string_view origin);

  // Adds the Authorization header, when there are credentials.
  void apply(net::Request& request) const;

  // `text` with every secret (token, password, the Basic header's encoding) blanked out: for
  // what a server says, which may echo what it was sent.
  std::string redact(std::string text) const;

 private:
  std::string authorization_;  // the Authorization header's value; empty: none
  std::vector<std::string> secrets_;
};

}  // namespace pb::connectors
