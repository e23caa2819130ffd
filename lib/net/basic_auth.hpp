// The value of an "Authorization: Basic" header (RFC 7617), for connectors that log in with a
// user name and password or a key pair.
#pragma once

#include <string>
#include <string_view>

namespace pb::net {

// "Basic " + base64(user ":" password). The result is as secret as the password.
std::string basic_authorization(std::string_view user, std::string_view password);

// RFC 4648 base64 with padding.
std::string base64(std::string_view in);

}  // namespace pb::net
