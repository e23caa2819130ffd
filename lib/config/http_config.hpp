// `daemon.http`: beed's own HTTP listener (GET /metrics now, the web dashboard later). Off unless
// `listen` is set; a listener that is not on loopback must use TLS (checked by the loader).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace pb::config {

// The port `listen` takes when it names only a host. 10025 is unallocated in the Prometheus
// project's list of default port allocations (the exporters' range 9100-9999 is full; 10024
// and 10026 are taken), so a Prometheus host running other exporters can run beed beside them.
inline constexpr std::uint16_t kDefaultHttpPort = 10025;

struct HttpListenerConfig {
  std::string listen;  // as written ("127.0.0.1:10025"); empty: no listener at all
  std::string host;    // parsed from `listen`: an IP literal (IPv6 without brackets)
  std::uint16_t port = kDefaultHttpPort;
  std::filesystem::path admin_token_file;  // empty: the web page and API are read-only
  std::filesystem::path tls_cert_file;     // both or neither (checked)
  std::filesystem::path tls_key_file;

  bool enabled() const { return !listen.empty(); }
  bool tls() const { return !tls_cert_file.empty(); }
  bool operator==(const HttpListenerConfig&) const = default;
};

}  // namespace pb::config
