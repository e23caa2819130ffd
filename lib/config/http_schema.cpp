#include "config/http_schema.hpp"

#include <charconv>
#include <utility>

#include <boost/asio/ip/address.hpp>

#include "config/config_reader.hpp"

namespace pb::config {

namespace {

using schema::file;
using schema::text;

constexpr Field<HttpListenerConfig> kHttp[] = {
    {.key = "listen",
     .kind = Kind::string,
     .reload = Reload::restart,
     .description = "HOST:PORT of beed's HTTP listener (GET /metrics); port 10025 when only a host "
                    "is given; TLS is required unless HOST is loopback",
     .set = [](HttpListenerConfig& h, const Value& v) { h.listen = text(v); }},
    {.key = "admin_token_file",
     .kind = Kind::secret_file,
     .reload = Reload::restart,
     .description = "a file holding the token that allows changes through the web page and API; "
                    "absent: they are read-only",
     .set = [](HttpListenerConfig& h, const Value& v) { h.admin_token_file = file(v); }},
    {.key = "tls_cert_file",
     .kind = Kind::path,
     .reload = Reload::restart,
     .description = "PEM certificate chain for HTTPS (with tls_key_file)",
     .set = [](HttpListenerConfig& h, const Value& v) { h.tls_cert_file = file(v); }},
    {.key = "tls_key_file",
     .kind = Kind::path,
     .reload = Reload::restart,
     .description = "PEM private key for HTTPS (with tls_cert_file)",
     .set = [](HttpListenerConfig& h, const Value& v) { h.tls_key_file = file(v); }},
};

}  // namespace

std::optional<std::string> parse_listen_address(std::string_view text, HttpListenerConfig& out) {
  std::string_view host = text;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return "an IPv6 address needs its closing ']'";
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return "expected ':PORT' after ']'";
    if (!rest.empty()) port = rest.substr(1);
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    if (text.find(':') != colon) return "write an IPv6 address in brackets: [::1]:PORT";
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return "no host: write 127.0.0.1:PORT to listen on loopback";
  std::string address = host == "localhost" ? "127.0.0.1" : std::string(host);
  boost::system::error_code ec;
  boost::asio::ip::make_address(address, ec);
  if (ec) return "\"" + std::string(host) + "\" is not an IP address (or localhost)";
  std::uint16_t number = kDefaultHttpPort;
  if (!port.empty() || text.ends_with(':')) {
    unsigned value = 0;
    const auto [end, err] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (err != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
      return "the port must be a number from 1 to 65535";
    number = static_cast<std::uint16_t>(value);
  }
  out.host = std::move(address);
  out.port = number;
  return std::nullopt;
}

bool is_loopback_host(const std::string& host) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return false;
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
        .is_loopback();
  return address.is_loopback();
}

void load_http_listener(HttpListenerConfig& out, const YAML::Node& node, Reader& reader) {
  out = HttpListenerConfig{};
  if (!node.IsDefined() || node.IsNull()) return;
  reader.section(node, kHttp, out);
  const auto at = [&](const char* key) { return Reader::child(node, key).value_or(node); };
  if (out.tls_cert_file.empty() != out.tls_key_file.empty()) {
    const char* given = out.tls_cert_file.empty() ? "tls_key_file" : "tls_cert_file";
    reader.fail(at(given), given, "give both tls_cert_file and tls_key_file, or neither");
  }
  if (!out.enabled()) {
    if (out.tls() || !out.admin_token_file.empty())
      reader.fail(node, "listen",
                  "missing required key \"listen\" (HOST:PORT; the other keys "
                  "of daemon.http mean nothing without it)");
    return;
  }
  if (const auto problem = parse_listen_address(out.listen, out))
    reader.fail(at("listen"), "listen", *problem);
  if (!out.tls() && !is_loopback_host(out.host))
    reader.fail(at("listen"), "listen",
                out.listen +
                    " is not a loopback address: metrics and the web page would cross the "
                    "network in clear; set tls_cert_file and tls_key_file, or listen on "
                    "127.0.0.1");
}

}  // namespace pb::config
