// daemon.http: the listener is off unless `listen` is set, and a non-loopback address needs TLS.
#include <doctest/doctest.h>

#include "config/http_schema.hpp"
#include "parse_helpers.hpp"

using pb::test::parse;
using pb::test::what_of;

TEST_CASE("daemon.http is off by default") {
  const auto config = parse("daemon: {}\n");
  CHECK_FALSE(config.daemon.http.enabled());
  CHECK(config.daemon.http.port == pb::config::kDefaultHttpPort);
}

TEST_CASE("daemon.http.listen on loopback needs no TLS") {
  const auto config = parse(
      "daemon:\n"
      "  http:\n"
      "    listen: \"127.0.0.1:9999\"\n"
      "    admin_token_file: admin.token\n");
  const auto& http = config.daemon.http;
  CHECK(http.enabled());
  CHECK(http.host == "127.0.0.1");
  CHECK(http.port == 9999);
  CHECK_FALSE(http.tls());
  CHECK(http.admin_token_file == "/etc/packagebee/admin.token");

  CHECK(parse("daemon: {http: {listen: \"[::1]:8080\"}}\n").daemon.http.host == "::1");
  const auto bare = parse("daemon: {http: {listen: localhost}}\n").daemon.http;
  CHECK(bare.host == "127.0.0.1");
  CHECK(bare.port == 10025);
}

TEST_CASE("daemon.http.listen off loopback without TLS is refused, naming file:line:key") {
  const auto message = what_of(
      "daemon:\n"
      "  http:\n"
      "    listen: \"0.0.0.0:10025\"\n");
  CHECK(
      message.starts_with("test.yaml:3:13: daemon.http.listen: 0.0.0.0:10025 is not a loopback "
                          "address"));
  CHECK(message.find("tls_cert_file") != std::string::npos);
  CHECK(what_of("daemon: {http: {listen: \"192.168.1.5:80\"}}\n").find("not a loopback") !=
        std::string::npos);
}

TEST_CASE("daemon.http.listen off loopback with TLS is accepted") {
  const auto config = parse(
      "daemon:\n"
      "  http:\n"
      "    listen: \"0.0.0.0:10025\"\n"
      "    tls_cert_file: /etc/packagebee/cert.pem\n"
      "    tls_key_file: /etc/packagebee/key.pem\n");
  CHECK(config.daemon.http.tls());
  CHECK(config.daemon.http.host == "0.0.0.0");
}

TEST_CASE("daemon.http: TLS both or neither, a valid address, listen required") {
  CHECK(what_of("daemon:\n"
                "  http:\n"
                "    listen: \"127.0.0.1:1\"\n"
                "    tls_cert_file: cert.pem\n") ==
        "test.yaml:4:20: daemon.http.tls_cert_file: give both tls_cert_file and tls_key_file, or "
        "neither");
  CHECK(what_of("daemon: {http: {listen: \"127.0.0.1:70000\"}}\n")
            .find("daemon.http.listen: the port must be a number from 1 to 65535") !=
        std::string::npos);
  CHECK(
      what_of("daemon: {http: {listen: \"shop.example.com:80\"}}\n").find("is not an IP address") !=
      std::string::npos);
  CHECK(what_of("daemon: {http: {listen: \"::1:80\"}}\n").find("in brackets") != std::string::npos);
  CHECK(what_of("daemon: {http: {admin_token_file: t}}\n")
            .find("daemon.http.listen: missing required key") != std::string::npos);
  CHECK(what_of("daemon: {http: {port: 1}}\n").find("daemon.http.port") != std::string::npos);
}

TEST_CASE("is_loopback_host") {
  using pb::config::is_loopback_host;
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("127.1.2.3"));
  CHECK(is_loopback_host("::1"));
  CHECK(is_loopback_host("::ffff:127.0.0.1"));
  CHECK_FALSE(is_loopback_host("0.0.0.0"));
  CHECK_FALSE(is_loopback_host("::"));
  CHECK_FALSE(is_loopback_host("10.0.0.1"));
}
