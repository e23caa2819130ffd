// Which Host headers a loopback listener answers (the DNS rebinding guard).
#include <doctest/doctest.h>

#include "web/host_check.hpp"

using pb::web::is_loopback_host_header;

TEST_CASE("loopback names and literals, any port") {
  for (const auto* host : {"localhost", "LocalHost:10025", "localhost.:8080", "127.0.0.1",
                           "127.0.0.1:10025", "127.1.2.3:1", "[::1]", "[::1]:10025"})
    CHECK_MESSAGE(is_loopback_host_header(host), host);
}

TEST_CASE("anything else, and malformed values") {
  for (const auto* host :
       {"", "evil.example:10025", "localhost.evil.example", "10.0.0.1:10025", "0.0.0.0", "[::2]:1",
        "[::1", "[::1]x", "::1", "127.0.0.1.nip.io", "localhostx"})
    CHECK_MESSAGE(!is_loopback_host_header(host), host);
}
