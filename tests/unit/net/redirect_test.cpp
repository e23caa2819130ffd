// The rules of a redirect chain (net/redirect.hpp): where each hop goes, when the credentials
// may go along, and the redirects that are not followed.
#include "net/redirect.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace pb::net;

namespace {

Response redirect(unsigned status, std::string location) {
  return Response{status, {{"Location", std::move(location)}}, ""};
}

std::string error_of(RedirectChain& chain, const Response& response) {
  try {
    chain.follow(response);
  } catch (const RedirectError& e) {
    return e.what();
  }
  return "(followed)";
}

}  // namespace

TEST_CASE("redirect statuses") {
  for (const unsigned status : {301u, 302u, 303u, 307u, 308u}) CHECK(is_redirect(status));
  for (const unsigned status : {200u, 300u, 304u, 305u, 400u}) CHECK_FALSE(is_redirect(status));
}

TEST_CASE("a chain follows relative and absolute Locations, credentials only at home") {
  RedirectChain chain(Url::parse("https://feeds.example"), "/a/b.csv?k=1");
  CHECK(chain.at_home());
  chain.follow(redirect(302, "c.csv"));
  CHECK(chain.origin().origin() == "https://feeds.example");
  CHECK(chain.target() == "/a/c.csv");
  CHECK(chain.at_home());
  chain.follow(redirect(301, "https://cdn.example:8443/x?sig=2"));
  CHECK(chain.origin().origin() == "https://cdn.example:8443");
  CHECK(chain.target() == "/x?sig=2");
  CHECK_FALSE(chain.at_home());
  chain.follow(redirect(308, "https://feeds.example/final.csv"));
  CHECK(chain.at_home());  // back at the configured origin
  CHECK(chain.hops() == 3);
}

TEST_CASE("plain http is followed only to loopback, and the port and scheme make the origin") {
  RedirectChain local(Url::parse("http://127.0.0.1:8080"), "/f.csv");
  local.follow(redirect(302, "http://localhost:8080/g.csv"));
  CHECK_FALSE(local.at_home());  // another host name is another origin, even on loopback
  RedirectChain remote(Url::parse("https://feeds.example"), "/f.csv");
  CHECK(error_of(remote, redirect(302, "http://feeds.example/f.csv")) ==
        "HTTP 302 from https://feeds.example/f.csv to http://feeds.example/f.csv refused: plain "
        "http is allowed only to a loopback address");
}

TEST_CASE("loops, too many hops and unusable Locations end the chain") {
  RedirectChain loop(Url::parse("https://a.example"), "/1?secret=x");
  loop.follow(redirect(302, "/2"));
  CHECK(error_of(loop, redirect(302, "/1?secret=x")) ==
        "redirect loop: https://a.example/2 sends back to https://a.example/1?...");

  RedirectChain many(Url::parse("https://a.example"), "/0", 2);
  many.follow(redirect(302, "/1"));
  many.follow(redirect(302, "/2"));
  CHECK(error_of(many, redirect(302, "/3")) ==
        "too many redirects (more than 2), the last from https://a.example/2");

  RedirectChain bad(Url::parse("https://a.example"), "/0");
  CHECK(error_of(bad, Response{302, {}, ""}) ==
        "HTTP 302 from https://a.example/0 without a Location to follow");
  CHECK(error_of(bad, redirect(302, "ftp://a.example/x")).find("cannot be followed") !=
        std::string::npos);
  CHECK(error_of(bad, redirect(302, "https://user:pw@a.example/x")).find("cannot be followed") !=
        std::string::npos);
}
