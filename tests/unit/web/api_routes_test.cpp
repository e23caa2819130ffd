// The JSON API's URL parsing: endpoints, methods, query parameters and their bounds, and
// percent-decoding that never lets a name smuggle a slash or a NUL.
#include <doctest/doctest.h>

#include "web/api_routes.hpp"

using namespace pb::web;

namespace {

ApiCall ok(std::string_view method, std::string_view path, std::string_view query = {}) {
  auto routed = route_api(method, path, query);
  REQUIRE_MESSAGE(std::holds_alternative<ApiCall>(routed), std::get<ApiError>(routed).message);
  return std::get<ApiCall>(routed);
}

ApiError error(std::string_view method, std::string_view path, std::string_view query = {}) {
  auto routed = route_api(method, path, query);
  REQUIRE(std::holds_alternative<ApiError>(routed));
  return std::get<ApiError>(routed);
}

}  // namespace

TEST_CASE("each endpoint, with its connection decoded") {
  CHECK(ok("GET", "/api/v1/connections").endpoint == ApiEndpoint::connections);
  CHECK(ok("HEAD", "/api/v1/connections/").endpoint == ApiEndpoint::connections);
  const auto one = ok("GET", "/api/v1/connections/acme%20eu");
  CHECK(one.endpoint == ApiEndpoint::connection);
  CHECK(one.connection == "acme eu");
  CHECK(ok("GET", "/api/v1/connections/a/inventory").endpoint == ApiEndpoint::inventory);
  CHECK(ok("GET", "/api/v1/connections/a/history").endpoint == ApiEndpoint::history);
  CHECK(ok("POST", "/api/v1/connections/a/full-sync").endpoint == ApiEndpoint::full_sync);
  CHECK(ok("POST", "/api/v1/connections/a/sync").endpoint == ApiEndpoint::sync);
  CHECK(mutates(ApiEndpoint::sync));
  CHECK(mutates(ApiEndpoint::full_sync));
  CHECK_FALSE(mutates(ApiEndpoint::inventory));
}

TEST_CASE("unknown paths are 404, and a name never holds a slash") {
  for (const auto* path :
       {"/api/v1/", "/api/v1/connectionsX", "/api/v2/connections", "/api/v1/connections/a/b",
        "/api/v1/connections/a/inventory/x", "/api/v1/connections/a%2fb", "/api/v1/connections/%00",
        "/api/v1/connections//inventory", "/api/v1/connections/a%zz"})
    CHECK_MESSAGE(error("GET", path).status == 404, path);
}

TEST_CASE("reads take GET and HEAD, actions POST only: 405 names the allowed ones") {
  auto e = error("POST", "/api/v1/connections/a/inventory");
  CHECK(e.status == 405);
  CHECK(e.allow == "GET, HEAD");
  e = error("GET", "/api/v1/connections/a/sync");
  CHECK(e.status == 405);
  CHECK(e.allow == "POST");
  CHECK(error("DELETE", "/api/v1/connections").status == 405);
  CHECK(error("PUT", "/api/v1/connections/a/full-sync").status == 405);
}

TEST_CASE("inventory parameters: defaults, the page cap, search, cursor, flags") {
  auto call = ok("GET", "/api/v1/connections/a/inventory");
  CHECK(call.limit == kInventoryPageDefault);
  CHECK_FALSE(call.sku);
  CHECK_FALSE(call.after);
  CHECK_FALSE(call.changed);
  call = ok("GET", "/api/v1/connections/a/inventory", "limit=1000000&after=AB%2B1&changed=true");
  CHECK(call.limit == kInventoryPageMax);
  CHECK(call.after == "AB+1");
  CHECK(call.changed);
  CHECK(ok("GET", "/api/v1/connections/a/inventory", "sku=AB").sku == "AB*");
  CHECK(ok("GET", "/api/v1/connections/a/inventory", "sku=A%3FB*").sku == "A?B*");
  CHECK(ok("GET", "/api/v1/connections/a/inventory", "sku=a+b").sku == "a b*");
  CHECK_FALSE(ok("GET", "/api/v1/connections/a/inventory", "sku=").sku);
  CHECK(ok("GET", "/api/v1/connections/a/history", "limit=7").limit == 7);
  CHECK(ok("GET", "/api/v1/connections/a/history", "limit=5000").limit == kHistoryMax);
  CHECK(ok("GET", "/api/v1/connections/a/history").limit == kHistoryDefault);
}

TEST_CASE("bad parameters are 400 with a reason") {
  for (const auto* query : {"limit=0", "limit=-3", "limit=1x", "limit=", "changed=yes", "x=1",
                            "limit=1&limit=2", "after=%", "after=%4", "sku=%00"}) {
    const auto e = error("GET", "/api/v1/connections/a/inventory", query);
    CHECK_MESSAGE(e.status == 400, query);
    CHECK_FALSE(e.message.empty());
  }
  CHECK(error("GET", "/api/v1/connections/a/history", "sku=x").status == 400);
  CHECK(error("POST", "/api/v1/connections/a/sync", "wait=1").status == 400);
}

TEST_CASE("percent-decoding") {
  CHECK(percent_decode("a%2Fb%2fc", false) == "a/b/c");
  CHECK(percent_decode("a+b", false) == "a+b");
  CHECK(percent_decode("a+b", true) == "a b");
  CHECK_FALSE(percent_decode("%", false));
  CHECK_FALSE(percent_decode("%4", false));
  CHECK_FALSE(percent_decode("%g0", false));
  CHECK_FALSE(percent_decode("%00", false));
  CHECK(sku_search_glob("AB") == "AB*");
  CHECK(sku_search_glob("A*B") == "A*B");
}
