// A listener on loopback answers only requests addressed to a loopback name: a web page elsewhere
// that re-points its own host name at 127.0.0.1 (DNS rebinding) would otherwise read the API from
// the user's browser. Its requests carry that foreign name in Host, and are refused (421).
#pragma once

#include <string_view>

namespace pb::web {

// `host`: a Host header's value ("localhost:10025", "127.0.0.1", "[::1]:8080"). True for
// "localhost" (any case, with or without a final dot) and loopback IP literals, whatever the port
// (an SSH tunnel may forward from another one).
bool is_loopback_host_header(std::string_view host);

}  // namespace pb::web
