// Turns the error codes of an exchange into TransportErrors whose kind says
// whether to retry and whose message says what failed, starting with the origin.
// Messages carry error codes only: never a request's headers or body.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

#include "net/http_session.hpp"

namespace pb::net::detail {

// Where an exchange was when it failed, for the message (and for the kind of a timeout).
enum class Phase {
  resolve,
  connect,
  handshake,
  write,  // sending the request
  read,   // reading the response
};

struct FailureContext {
  std::string_view origin;
  Phase phase;
  std::chrono::milliseconds limit;  // the deadline of that phase, for timeout messages
  std::size_t max_response_bytes;
};

// `ec` is an Asio, Beast, HTTP or OpenSSL error from `phase`. A cancelled operation
// (operation_aborted: the caller gave up) is not a transport failure and is not
// mapped: callers rethrow it as it is.
TransportError transport_error(const FailureContext& context, const boost::system::error_code& ec);

// The handshake failed because the peer's certificate did not verify.
TransportError tls_verify_error(std::string_view origin, std::string_view reason);

}  // namespace pb::net::detail
