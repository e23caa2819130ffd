// The `daemon.http` section's table and checks (http_schema.cpp), kept apart from the rest of
// the daemon's keys because the listen address has rules of its own.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace YAML {
class Node;
}

namespace pb::config {

class Reader;

// Reads `daemon.http` (a null node: absent, no listener) into `out` and checks it: a parseable
// listen address, TLS both or neither, TLS when the address is not loopback.
void load_http_listener(HttpListenerConfig& out, const YAML::Node& node, Reader& reader);

// "HOST:PORT", "[V6]:PORT", or a HOST alone (the default port). HOST is an IPv4 or IPv6 literal
// or "localhost" (read as 127.0.0.1). Returns what is wrong, or nothing and fills host and port.
std::optional<std::string> parse_listen_address(std::string_view text, HttpListenerConfig& out);

// 127.0.0.0/8 or ::1 (or an IPv4-mapped loopback address).
bool is_loopback_host(const std::string& host);

}  // namespace pb::config
