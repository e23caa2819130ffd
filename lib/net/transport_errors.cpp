#include "net/transport_errors.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace pb::net::detail {
namespace {

namespace asio_error = boost::asio::error;
namespace http = boost::beast::http;

std::string_view doing(Phase phase) {
  switch (phase) {
    case Phase::resolve:
      return "resolving the host";
    case Phase::connect:
      return "connecting";
    case Phase::handshake:
      return "in the TLS handshake";
    case Phase::write:
      return "sending the request";
    case Phase::read:
      return "reading the response";
  }
  return "?";
}

bool before_request(Phase phase) {
  return phase == Phase::resolve || phase == Phase::connect || phase == Phase::handshake;
}

// The peer went away (or the path to it did): the ways a connection ends that are not a bug.
bool connection_lost(const boost::system::error_code& ec) {
  return ec == asio_error::eof || ec == asio_error::connection_reset ||
         ec == asio_error::connection_aborted || ec == asio_error::broken_pipe ||
         ec == asio_error::not_connected || ec == asio_error::network_reset ||
         ec == asio_error::timed_out || ec == boost::asio::ssl::error::stream_truncated;
}

bool is_http_error(const boost::system::error_code& ec) {
  return ec.category() == make_error_code(http::error::bad_version).category();
}

}  // namespace

TransportError transport_error(const FailureContext& context, const boost::system::error_code& ec) {
  const std::string origin(context.origin);
  if (ec == boost::beast::error::timeout) {
    // The connect deadline is part of "could not connect"; only the request deadline
    // makes a timeout (see FailureKind).
    const bool connecting = before_request(context.phase);
    return TransportError(connecting ? FailureKind::connect : FailureKind::timeout,
                          origin + ": timed out " + std::string(doing(context.phase)) + " (" +
                              (connecting ? "connect" : "request") + " timeout " +
                              std::to_string(context.limit.count()) + " ms)");
  }
  switch (context.phase) {
    case Phase::resolve:
      return TransportError(FailureKind::resolve,
                            origin + ": cannot resolve the host name: " + ec.message());
    case Phase::connect:
      if (ec == asio_error::connection_refused)
        return TransportError(FailureKind::connect, origin + ": connection refused");
      return TransportError(FailureKind::connect, origin + ": cannot connect: " + ec.message());
    case Phase::handshake:
      if (connection_lost(ec))
        return TransportError(FailureKind::tls,
                              origin + ": TLS handshake failed: the server closed the connection");
      return TransportError(FailureKind::tls, origin + ": TLS handshake failed: " + ec.message());
    case Phase::write:
      return TransportError(FailureKind::dropped,
                            origin + ": connection lost sending the request: " + ec.message());
    case Phase::read:
      break;
  }
  if (ec == http::error::body_limit)
    return TransportError(FailureKind::too_large,
                          origin + ": response body larger than the limit of " +
                              std::to_string(context.max_response_bytes) + " bytes");
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
    return TransportError(FailureKind::too_large, origin + ": response header too large");
  if (ec == http::error::end_of_stream)
    return TransportError(FailureKind::dropped,
                          origin + ": the server closed the connection without responding");
  if (ec == http::error::partial_message)
    return TransportError(
        FailureKind::dropped,
        origin + ": the server closed the connection in the middle of the response");
  if (connection_lost(ec))
    return TransportError(FailureKind::dropped,
                          origin + ": connection lost reading the response: " + ec.message());
  if (is_http_error(ec))
    return TransportError(FailureKind::protocol,
                          origin + ": invalid HTTP response: " + ec.message());
  return TransportError(FailureKind::dropped,
                        origin + ": reading the response failed: " + ec.message());
}

TransportError tls_verify_error(std::string_view origin, std::string_view reason) {
  return TransportError(
      FailureKind::tls_verify,
      std::string(origin) + ": TLS certificate verify failed: " + std::string(reason));
}

}  // namespace pb::net::detail
