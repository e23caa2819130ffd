#include "net/tls_context.hpp"

#include <stdexcept>

#include <openssl/x509_vfy.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/system/system_error.hpp>

namespace pb::net::detail {
namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_tls_context(const std::filesystem::path& ca_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  // TLS 1.0 and 1.1 are deprecated (RFC 8996); every store API we talk to has 1.2.
  if (SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION) != 1)
    throw std::runtime_error("cannot set the minimum TLS version to 1.2");
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  context->set_verify_mode(ssl::verify_peer);
  // A system without a default store still works with `ca_file`: the handshake, not this
  // call, reports a certificate nobody vouches for.
  boost::system::error_code ignored;
  context->set_default_verify_paths(ignored);
  if (!ca_file.empty()) {
    try {
      context->load_verify_file(ca_file.string());
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("cannot load the CA file '" + ca_file.string() +
                               "': " + e.code().message());
    }
  }
  return context;
}

bool PeerNameCheck::operator()(bool preverified, ssl::verify_context& ctx) const {
  if (ssl::host_name_verification(host_)(preverified, ctx)) return true;
  // host_name_verification fails only on the leaf's name once the chain verified: say so
  // (a chain failure already carries its own error).
  X509_STORE_CTX* store = ctx.native_handle();
  if (preverified && X509_STORE_CTX_get_error(store) == X509_V_OK) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(host_, ec);
    X509_STORE_CTX_set_error(store,
                             ec ? X509_V_ERR_HOSTNAME_MISMATCH : X509_V_ERR_IP_ADDRESS_MISMATCH);
  }
  return false;
}

void set_server_name(SSL* ssl, const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (!ec) return;
  // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
  if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(host.c_str())) != 1)
    throw std::runtime_error("cannot set the TLS server name '" + host + "'");
}

std::string verify_failure_reason(const SSL* ssl) {
  const long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) return {};
  return X509_verify_cert_error_string(result);
}

}  // namespace pb::net::detail
