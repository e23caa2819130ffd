// Rejects a Request that would not serialise to what the caller meant: a line
// break in a header would let data smuggle in headers of its own.
#pragma once

#include "net/http_session.hpp"

namespace pb::net::detail {

// Throws std::invalid_argument naming the method, the target or the header at
// fault, never a header's value (it may be a token).
void check_request(const Request& request);

}  // namespace pb::net::detail
