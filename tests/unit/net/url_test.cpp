// Url::parse: the forms an endpoint takes, and each way a URL is refused.
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

#include "net/url.hpp"

using pb::net::Url;

TEST_CASE("an https URL with path, query and fragment") {
  const auto url = Url::parse("HTTPS://Shop.Example.com/api/v1/?page=2#top");
  CHECK(url.scheme == "https");
  CHECK(url.host == "shop.example.com");
  CHECK(url.port == 443);
  CHECK(url.path == "/api/v1");
  CHECK(url.query == "page=2");
  CHECK(url.tls());
  CHECK(url.origin() == "https://shop.example.com");
  CHECK(url.host_header() == "shop.example.com");
}

TEST_CASE("ports: default ones are not shown, others are") {
  const auto plain = Url::parse("http://127.0.0.1:8080");
  CHECK(plain.port == 8080);
  CHECK(plain.path.empty());
  CHECK_FALSE(plain.tls());
  CHECK(plain.origin() == "http://127.0.0.1:8080");
  CHECK(Url::parse("http://localhost:80/x").origin() == "http://localhost");
  CHECK(Url::parse("https://example.com:443").host_header() == "example.com");
  CHECK(Url::parse("https://example.com:8443").host_header() == "example.com:8443");
}

TEST_CASE("IPv6 literals keep their brackets only in the Host header") {
  const auto url = Url::parse("https://[::1]:4431/x");
  CHECK(url.host == "::1");
  CHECK(url.port == 4431);
  CHECK(url.host_header() == "[::1]:4431");
  CHECK(url.origin() == "https://[::1]:4431");
  CHECK(Url::parse("https://[2001:db8::1]").host_header() == "[2001:db8::1]");
}

TEST_CASE("loopback: localhost, 127.0.0.0/8 and ::1, nothing that only looks like them") {
  for (const char* text :
       {"http://localhost", "http://127.0.0.1", "http://127.1.2.3:9", "http://[::1]:1"})
    CHECK_MESSAGE(Url::parse(text).loopback(), text);
  for (const char* text : {"http://example.com", "http://10.0.0.1", "http://127.example.com",
                           "http://localhost.example.com", "http://128.0.0.1", "http://[::2]"})
    CHECK_FALSE_MESSAGE(Url::parse(text).loopback(), text);
}

TEST_CASE("each malformed URL is refused with a reason") {
  struct Case {
    const char* text;
    const char* reason;
  };
  const Case cases[] = {
      {"shop.example.com/api", "not an absolute URL"},
      {"ftp://example.com", "scheme must be http or https"},
      {"https://user:pass@example.com", "userinfo is not allowed"},
      {"https://[::1", "unterminated IPv6 literal"},
      {"https://[::1]x", "junk after IPv6 literal"},
      {"https://[zz]", "invalid IPv6 literal"},
      {"https://", "no host"},
      {"https://:8080", "no host"},
      {"https://exa mple.com", "invalid character in host"},
      {"https://example.com:0", "port out of range"},
      {"https://example.com:65536", "port out of range"},
      {"https://example.com:8o", "port out of range"},
      {"https://example.com/a b", "space or control character"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    try {
      (void)Url::parse(c.text);
      FAIL("accepted");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find(c.reason) != std::string::npos);
    }
  }
}

TEST_CASE("url_encode leaves only unreserved characters as they are") {
  CHECK(pb::net::url_encode("AZaz09-._~") == "AZaz09-._~");
  CHECK(pb::net::url_encode("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9");
}
