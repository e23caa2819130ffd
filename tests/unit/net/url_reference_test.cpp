// Following a URL a response names (RFC 3986 section 5.2, with the examples of section 5.4),
// and the Basic authorization header value.
#include "net/url_reference.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "net/basic_auth.hpp"

using namespace pb::net;

namespace {

// The target of `reference` resolved against a request to https://a.example/<base_target>.
std::string resolve(std::string_view base_target, std::string_view reference) {
  const auto base = Url::parse("https://a.example");
  const auto resolved = resolve_reference(base, base_target, reference);
  CHECK(same_origin(resolved.origin, base));
  return resolved.target;
}

}  // namespace

TEST_CASE("relative references resolve as RFC 3986 section 5.4 says") {
  const std::string_view base = "/b/c/d;p?q";
  CHECK(resolve(base, "g") == "/b/c/g");
  CHECK(resolve(base, "./g") == "/b/c/g");
  CHECK(resolve(base, "g/") == "/b/c/g/");
  CHECK(resolve(base, "/g") == "/g");
  CHECK(resolve(base, "?y") == "/b/c/d;p?y");
  CHECK(resolve(base, "g?y") == "/b/c/g?y");
  CHECK(resolve(base, "#s") == "/b/c/d;p?q");
  CHECK(resolve(base, "") == "/b/c/d;p?q");
  CHECK(resolve(base, ".") == "/b/c/");
  CHECK(resolve(base, "./") == "/b/c/");
  CHECK(resolve(base, "..") == "/b/");
  CHECK(resolve(base, "../g") == "/b/g");
  CHECK(resolve(base, "../..") == "/");
  CHECK(resolve(base, "../../g") == "/g");
  CHECK(resolve(base, "../../../g") == "/g");
  CHECK(resolve(base, "/./g") == "/g");
  CHECK(resolve(base, "/../g") == "/g");
  CHECK(resolve(base, "g.") == "/b/c/g.");
  CHECK(resolve(base, "..g") == "/b/c/..g");
  CHECK(resolve(base, "./../g") == "/b/g");
  CHECK(resolve(base, "g/./h") == "/b/c/g/h");
  CHECK(resolve(base, "g/../h") == "/b/c/h");
  CHECK(resolve(base, "g?y/./x") == "/b/c/g?y/./x");
  // What paging APIs send.
  CHECK(resolve("/v1/inventory?page=1&per_page=100", "/v1/inventory?page=2&per_page=100") ==
        "/v1/inventory?page=2&per_page=100");
  CHECK(resolve("/v1/inventory?page=1", "inventory?page=2") == "/v1/inventory?page=2");
  CHECK(resolve("/v1/inventory?page=1", "?page=2") == "/v1/inventory?page=2");
}

TEST_CASE("absolute and network-path references name their own origin") {
  const auto base = Url::parse("https://api.example.com");
  auto r = resolve_reference(base, "/v1/items?page=1", "https://API.example.com/v1/items?page=2");
  CHECK(same_origin(r.origin, base));
  CHECK(r.target == "/v1/items?page=2");

  r = resolve_reference(base, "/v1/items", "//other.example.net:8443/items?cursor=x#frag");
  CHECK(r.origin.scheme == "https");
  CHECK(r.origin.host == "other.example.net");
  CHECK(r.origin.port == 8443);
  CHECK_FALSE(same_origin(r.origin, base));
  CHECK(r.target == "/items?cursor=x");

  r = resolve_reference(base, "/v1/items", "http://api.example.com/v1/items?page=2");
  CHECK_FALSE(same_origin(r.origin, base));  // a downgrade to plain http is another origin

  r = resolve_reference(base, "/v1/items", "https://api.example.com:443");
  CHECK(same_origin(r.origin, base));
  CHECK(r.target == "/");
}

TEST_CASE("references that cannot be followed are refused") {
  const auto base = Url::parse("https://api.example.com");
  CHECK_THROWS_AS(resolve_reference(base, "/", "ftp://api.example.com/x"), std::invalid_argument);
  CHECK_THROWS_AS(resolve_reference(base, "/", "mailto:ops@example.com"), std::invalid_argument);
  CHECK_THROWS_AS(resolve_reference(base, "/", "https://user:pw@api.example.com/x"),
                  std::invalid_argument);
  CHECK_THROWS_AS(resolve_reference(base, "/", "/items?page=2 HTTP/1.1\r\nX: y"),
                  std::invalid_argument);
  CHECK_THROWS_AS(resolve_reference(base, "/", "https:///x"), std::invalid_argument);
}

TEST_CASE("basic authorization and base64") {
  CHECK(base64("") == "");
  CHECK(base64("f") == "Zg==");
  CHECK(base64("fo") == "Zm8=");
  CHECK(base64("foo") == "Zm9v");
  CHECK(base64("foob") == "Zm9vYg==");
  CHECK(base64("fooba") == "Zm9vYmE=");
  CHECK(base64("foobar") == "Zm9vYmFy");
  // RFC 7617 section 2.
  CHECK(basic_authorization("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}
