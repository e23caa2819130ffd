// The OpenSSL side of an https session: the client context every connection
// shares (trust anchors, TLS 1.2 minimum) and what each connection checks.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <openssl/ssl.h>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/verify_context.hpp>

namespace pb::net::detail {

// Verifies peers against the system store plus `ca_file` (if not empty).
// Throws std::runtime_error naming `ca_file` when it cannot be loaded.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::filesystem::path& ca_file);

// The per-connection verify callback: Asio's host_name_verification, plus a
// certificate error code when the name does not match, so that the failure
// reads "hostname mismatch" rather than OpenSSL's "unspecified" error.
class PeerNameCheck {
 public:
  explicit PeerNameCheck(std::string host) : host_(std::move(host)) {}
  bool operator()(bool preverified, boost::asio::ssl::verify_context& ctx) const;

 private:
  std::string host_;
};

// Sends SNI for a host name (never for an IP literal, which RFC 6066 forbids).
void set_server_name(SSL* ssl, const std::string& host);

// Why the peer's certificate was rejected ("certificate has expired"), or empty
// when the last handshake on `ssl` did not fail certificate verification.
std::string verify_failure_reason(const SSL* ssl);

}  // namespace pb::net::detail
