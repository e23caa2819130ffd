// The `type: http-json` warehouse against a scripted session: what it asks for in each paging
// mode, when it stops, the Link header, authentication and what never shows in messages,
// incremental reads and their cursor, and errors. Live behaviour against a server is for the
// end-to-end tests with the inventory source emulator.
#include "connectors/warehouse/http/http_json_warehouse.hpp"
#include "connectors/factory.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "fake_http_session.hpp"
#include "request_target.hpp"
#include "test_support.hpp"
#include "warehouse_reads.hpp"

using namespace pb;
using namespace pb::connectors;
using pb::test::error_of;
using pb::test::FakeHttpSession;
using pb::test::header;
using pb::test::read;
using pb::test::ScratchDir;
using pb::test::split_target;
using pb::test::write_file;

namespace {

constexpr std::string_view kUrl = "https://fake.test/v1/inventory";

config::HttpJsonWarehouseConfig base_config() {
  config::HttpJsonWarehouseConfig config;
  config.url = std::string(kUrl);
  config.size_param = "per_page";  // the loader's default for page paging
  config.page_size = 2;
  return config;
}

// {"items":[{"sku":"A","quantity":1},...]} from "A=1,B=2".
std::string page_of(std::string_view rows, std::string_view extra = {}) {
  std::string items;
  while (!rows.empty()) {
    const auto comma = rows.find(',');
    const auto row = rows.substr(0, comma);
    const auto eq = row.find('=');
    if (!items.empty()) items += ',';
    items += R"({"sku":")" + std::string(row.substr(0, eq)) + R"(","quantity":)" +
             std::string(row.substr(eq + 1)) + "}";
    rows = comma == std::string_view::npos ? std::string_view{} : rows.substr(comma + 1);
  }
  std::string body = R"({"items":[)" + items + "]";
  if (!extra.empty()) body += "," + std::string(extra);
  return body + "}";
}

std::string rows(const Feed& feed) {
  std::string out;
  for (const auto& row : feed.rows) {
    if (!out.empty()) out += ';';
    out += row.sku + "=" + std::to_string(row.quantity);
  }
  return out;
}

std::vector<std::string> targets(const FakeHttpSession& session) {
  std::vector<std::string> out;
  for (const auto& r : session.requests()) out.push_back(r.target);
  return out;
}

}  // namespace

TEST_CASE(
    "page paging: numbered from first_page, the configured query kept, ends on a short page") {
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200, page_of("B=2,A=1"));
  session->then_status(200, page_of("C=3"));
  auto config = base_config();
  config.url = std::string(kUrl) + "?warehouse=3";
  config.first_page = 0;
  HttpJsonWarehouse warehouse(config, session);
  const Feed feed = read(warehouse);
  CHECK(rows(feed) == "A=1;B=2;C=3");
  CHECK(feed.origin == "https://fake.test/v1/inventory?...");
  CHECK_FALSE(feed.delta);
  CHECK_FALSE(feed.unchanged);
  CHECK(targets(*session) ==
        std::vector<std::string>{"/v1/inventory?warehouse=3&page=0&per_page=2",
                                 "/v1/inventory?warehouse=3&page=1&per_page=2"});
  CHECK(*header(session->requests()[0], "Accept") == "application/json");
  CHECK(header(session->requests()[0], "Authorization") == nullptr);
  CHECK(warehouse.describe() == "http-json https://fake.test/v1/inventory?...");
}

TEST_CASE("page paging: a full last page is followed by an empty one, which ends the read") {
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200, page_of("A=1,B=2"));
  session->then_status(200, page_of(""));
  HttpJsonWarehouse warehouse(base_config(), session);
  CHECK(rows(read(warehouse)) == "A=1;B=2");
  CHECK(targets(*session) == std::vector<std::string>{"/v1/inventory?page=1&per_page=2",
                                                      "/v1/inventory?page=2&per_page=2"});
  CHECK(warehouse.describe() == "http-json https://fake.test/v1/inventory");
}

TEST_CASE("offset paging: offsets by the items read, limit as the size, ends on a short page") {
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200, page_of("A=1,B=2"));
  session->then_status(200, page_of("C=3,D=4"));
  session->then_status(200, page_of("E=5"));
  auto config = base_config();
  config.paging = config::JsonPaging::offset;
  config.size_param = "limit";
  config.offset_param = "skip";
  HttpJsonWarehouse warehouse(config, session);
  CHECK(rows(read(warehouse)) == "A=1;B=2;C=3;D=4;E=5");
  CHECK(targets(*session) == std::vector<std::string>{"/v1/inventory?skip=0&limit=2",
                                                      "/v1/inventory?skip=2&limit=2",
                                                      "/v1/inventory?skip=4&limit=2"});
}

TEST_CASE("cursor paging: the next cursor from the body, ends on a null or absent one") {
  auto config = base_config();
  config.paging = config::JsonPaging::cursor;
  config.cursor_param = "after";
  config.next_cursor_field = "meta.next";
  config.page_size = 100;  // a short page does not end cursor paging

  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200, page_of("A=1", R"("meta":{"next":"c/2 x"})"));
  session->then_status(200, page_of("B=2", R"("meta":{"next":"c3"})"));
  session->then_status(200, page_of("C=3", R"("meta":{"next":null})"));
  HttpJsonWarehouse warehouse(config, session);
  CHECK(rows(read(warehouse)) == "A=1;B=2;C=3");
  REQUIRE(session->requests().size() == 3);
  CHECK(session->requests()[0].target == "/v1/inventory?per_page=100");
  CHECK(session->requests()[1].target == "/v1/inventory?after=c%2F2%20x&per_page=100");
  CHECK(split_target(session->requests()[1].target).query.at("after") == "c/2 x");
  CHECK(session->requests()[2].target == "/v1/inventory?after=c3&per_page=100");

  auto absent = std::make_shared<FakeHttpSession>();
  absent->then_status(200, page_of("A=1", R"("meta":{"next":"c2"})"));
  absent->then_status(200, page_of("B=2"));
  HttpJsonWarehouse ends(config, absent);
  CHECK(rows(read(ends)) == "A=1;B=2");
  CHECK(absent->requests().size() == 2);
}

TEST_CASE("cursor paging: a cursor sent twice is a server in a loop") {
  auto config = base_config();
  config.paging = config::JsonPaging::cursor;
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200, page_of("A=1,B=2", R"("next_cursor":"x")"));
  session->then_status(200, page_of("C=1,D=2", R"("next_cursor":"y")"));
  session->then_status(200, page_of("E=1,F=2", R"("next_cursor":"x")"));
  HttpJsonWarehouse warehouse(config, session);
  CHECK(error_of(warehouse) ==
        "https://fake.test/v1/inventory: page 3: the server sent a next cursor it had sent before "
        "(paging in a loop?)");
}

TEST_CASE("link paging: several links and headers, quoted rel lists, relative targets") {
  auto config = base_config();
  config.paging = config::JsonPaging::link;
  config.size_param = "PageSize";
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(
      200, page_of("A=1,B=2"),
      {{"Link", R"(<https://fake.test/v1/inventory?PageSize=2&Page=1>; rel="first prev")"},
       {"link", R"(<https://fake.test/v1/inventory?PageSize=2&Page=9>; rel=last, )"
                R"(<?PageSize=2&Page=2&note=a,b;c>; title="x, y; rel=next"; REL="Next")"}});
  session->then_status(200, page_of("C=3,D=4"),
                       {{"Link", R"(<../v1/inventory?PageSize=2&Page=3>;rel=next)"}});
  session->then_status(200, page_of("E=5,F=6"),
                       {{"Link", R"(<https://fake.test/v1/inventory?Page=1>; rel="prev")"}});
  HttpJsonWarehouse warehouse(config, session);
  CHECK(rows(read(warehouse)) == "A=1;B=2;C=3;D=4;E=5;F=6");
  CHECK(targets(*session) == std::vector<std::string>{"/v1/inventory?PageSize=2",
                                                      "/v1/inventory?PageSize=2&Page=2&note=a,b;c",
                                                      "/v1/inventory?PageSize=2&Page=3"});
}

TEST_CASE("link paging: a next link to another host or scheme is refused, credentials stay home") {
  ScratchDir dir;
  write_file(dir / "token", "tok-SECRET-123\n");
  auto config = base_config();
  config.paging = config::JsonPaging::link;
  config.http.auth.bearer_token_file = dir / "token";
  for (const char* link : {"<https://evil.example/v1/inventory?page=2>; rel=next",
                           "<//evil.example/v1/inventory?page=2>; rel=next",
                           "<http://fake.test/v1/inventory?page=2>; rel=next",
                           "<https://fake.test:8443/v1/inventory?page=2>; rel=next"}) {
    CAPTURE(link);
    auto session = std::make_shared<FakeHttpSession>();
    session->then_status(200, page_of("A=1,B=2"), {{"Link", link}});
    HttpJsonWarehouse warehouse(config, session);
    const std::string error = error_of(warehouse);
    CHECK(error.find("https://fake.test/v1/inventory: page 1: refused to follow the Link "
                     "rel=\"next\" to ") == 0);
    CHECK(error.find("the credentials must not go there") != std::string::npos);
    CHECK(error.find("SECRET") == std::string::npos);
    CHECK(session->requests().size() == 1);
  }
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200, page_of("A=1,B=2"), {{"Link", "<https://evil.example/x>; rel=next"}});
  HttpJsonWarehouse warehouse(config, session);
  CHECK(error_of(warehouse) ==
        "https://fake.test/v1/inventory: page 1: refused to follow the Link rel=\"next\" to "
        "https://evil.example: not the configured https://fake.test, and the credentials must not "
        "go there");
}

TEST_CASE("link paging: a link back to a page already read is a loop") {
  auto config = base_config();
  config.paging = config::JsonPaging::link;
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200, page_of("A=1,B=2"), {{"Link", "</v1/inventory?page=2>; rel=next"}});
  session->then_status(200, page_of("C=1,D=2"), {{"Link", "</v1/inventory?per_page=2>; rel=next"}});
  HttpJsonWarehouse warehouse(config, session);
  CHECK(error_of(warehouse) ==
        "https://fake.test/v1/inventory: page 2: the Link rel=\"next\" points to a page already "
        "read (paging in a loop?)");
}

TEST_CASE("max_pages: a read that needs more pages fails instead of paging forever") {
  auto config = base_config();
  config.max_pages = 3;
  auto session = std::make_shared<FakeHttpSession>();
  for (int i = 0; i < 3; ++i)
    session->then_status(200, page_of("A" + std::to_string(i) + "=1,B" + std::to_string(i) + "=2"));
  HttpJsonWarehouse warehouse(config, session);
  CHECK(error_of(warehouse) ==
        "https://fake.test/v1/inventory: more than 3 pages (max_pages); does the server page in a "
        "loop?");
  CHECK(session->requests().size() == 3);

  // Exactly max_pages pages is fine.
  auto exact = std::make_shared<FakeHttpSession>();
  exact->then_status(200, page_of("A=1,B=2"));
  exact->then_status(200, page_of("C=1"));
  config.max_pages = 2;
  HttpJsonWarehouse enough(config, exact);
  CHECK(rows(read(enough)) == "A=1;B=2;C=1");
}

TEST_CASE("bearer authentication: the token is sent, and never shown") {
  ScratchDir dir;
  write_file(dir / "token", "tok-SECRET-123\n");
  auto config = base_config();
  config.http.auth.bearer_token_file = dir / "token";
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(401, R"({"error":"token tok-SECRET-123 expired"})");
  HttpJsonWarehouse warehouse(config, session);
  const std::string error = error_of(warehouse);
  CHECK(error ==
        "https://fake.test/v1/inventory: page 1: HTTP 401 (check bearer_token_file, or username "
        "and password_file): {\"error\":\"token [redacted] expired\"}");
  REQUIRE(session->requests().size() == 1);
  CHECK(*header(session->requests()[0], "Authorization") == "Bearer tok-SECRET-123");
  CHECK(warehouse.describe().find("SECRET") == std::string::npos);
}

TEST_CASE("basic authentication: the header from username and password_file") {
  ScratchDir dir;
  write_file(dir / "password", "open sesame\n");
  auto config = base_config();
  config.http.auth.username = "Aladdin";
  config.http.auth.password_file = dir / "password";
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200, page_of("A=1"));
  HttpJsonWarehouse warehouse(config, session);
  CHECK(rows(read(warehouse)) == "A=1");
  CHECK(*header(session->requests()[0], "Authorization") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");

  config.http.auth.password_file = dir / "missing";
  HttpJsonWarehouse unreadable(config, std::make_shared<FakeHttpSession>());
  CHECK(error_of(unreadable)
            .find("https://fake.test/v1/inventory: cannot read password_file " +
                  (dir / "missing").string()) == 0);
}

TEST_CASE("a status that is not 2xx fails the read with the status and the body's start") {
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200, page_of("A=1,B=2"));
  session->then_status(404, "{\"error\":\n  \"no such page\"}" + std::string(300, 'x'));
  HttpJsonWarehouse warehouse(base_config(), session);
  const std::string error = error_of(warehouse);
  CHECK(error.find("https://fake.test/v1/inventory: page 2: HTTP 404: {\"error\": \"no such "
                   "page\"}xxx") == 0);
  CHECK(error.ends_with("xxx..."));
  CHECK(error.size() < 300);
}

TEST_CASE("a transient status is retried") {
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(503, "busy", {{"Retry-After", "0"}});
  session->then_status(200, page_of("A=1"));
  HttpJsonWarehouse warehouse(base_config(), session);
  CHECK(rows(read(warehouse)) == "A=1");
  CHECK(session->requests().size() == 2);
}

TEST_CASE("a bad item is a problem naming its page and index") {
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200, page_of("A=1,B=2"));
  session->then_status(200, page_of("C=\"x\""));
  HttpJsonWarehouse warehouse(base_config(), session);
  const Feed feed = read(warehouse);
  CHECK(rows(feed) == "A=1;B=2");
  REQUIRE(feed.problems.size() == 1);
  CHECK(feed.problems[0].line == 3);
  CHECK(feed.problems[0].message == "page 2, items[0]: SKU 'C': quantity 'x' is not an integer");
  CHECK(feed.held_skus == std::vector<std::string>{"C"});
}

TEST_CASE("a location field: items of other locations left out, the rest added up across pages") {
  auto config = base_config();
  config.location_field = "site";
  config.locations = {"EAST", "WEST"};
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200, R"({"items":[{"sku":"A","quantity":5,"site":"EAST"},
                                         {"sku":"B","quantity":5,"site":"NORTH"}]})");
  session->then_status(200, R"({"items":[{"sku":"A","quantity":7,"site":"WEST"}]})");
  HttpJsonWarehouse warehouse(config, session);
  CHECK(rows(read(warehouse)) == "A=12");
}

TEST_CASE("incremental reads: updated_since only on a Smart Sync with a cursor") {
  auto config = base_config();
  config.updated_since_param = "updated_since";
  const std::string old_cursor = "2026-11-20T08:00:00Z";
  const auto two_pages = [](FakeHttpSession& s) {
    s.then_status(200, R"({"items":[
        {"sku":"A","quantity":1,"updated_at":"2026-11-26T18:30:00+02:00"},
        {"sku":"B","quantity":2,"updated_at":"2026-11-26T12:00:00-05:00"}]})");
    s.then_status(200, R"({"items":[
        {"sku":"C","quantity":3,"updated_at":"2026-11-26T16:59:59.900Z"}]})");
  };

  SUBCASE("smart with a cursor: a delta, updated_since on every page") {
    auto session = std::make_shared<FakeHttpSession>();
    two_pages(*session);
    HttpJsonWarehouse warehouse(config, session);
    const Feed feed = read(warehouse, ReadRequest{SyncKind::smart, "", old_cursor});
    CHECK(feed.delta);
    CHECK(rows(feed) == "A=1;B=2;C=3");
    // 12:00-05:00 is the newest, written in UTC.
    CHECK(feed.cursor == "2026-11-26T17:00:00Z");
    REQUIRE(session->requests().size() == 2);
    for (const auto& r : session->requests())
      CHECK(split_target(r.target).query.at("updated_since") == old_cursor);
    CHECK(session->requests()[1].target ==
          "/v1/inventory?page=2&per_page=2&updated_since=2026-11-20T08%3A00%3A00Z");
  }
  SUBCASE("full: everything, and the cursor for the next Smart Sync") {
    auto session = std::make_shared<FakeHttpSession>();
    two_pages(*session);
    HttpJsonWarehouse warehouse(config, session);
    const Feed feed = read(warehouse, ReadRequest{SyncKind::full, "", old_cursor});
    CHECK_FALSE(feed.delta);
    CHECK(feed.cursor == "2026-11-26T17:00:00Z");
    for (const auto& r : session->requests())
      CHECK(split_target(r.target).query.count("updated_since") == 0);
  }
  SUBCASE("smart without a cursor yet: a full read") {
    auto session = std::make_shared<FakeHttpSession>();
    two_pages(*session);
    HttpJsonWarehouse warehouse(config, session);
    const Feed feed = read(warehouse, ReadRequest{SyncKind::smart, "", ""});
    CHECK_FALSE(feed.delta);
    CHECK(feed.cursor == "2026-11-26T17:00:00Z");
    for (const auto& r : session->requests())
      CHECK(split_target(r.target).query.count("updated_since") == 0);
  }
  SUBCASE("without updated_since_param every read is full") {
    config.updated_since_param.clear();
    auto session = std::make_shared<FakeHttpSession>();
    two_pages(*session);
    HttpJsonWarehouse warehouse(config, session);
    const Feed feed = read(warehouse, ReadRequest{SyncKind::smart, "", old_cursor});
    CHECK_FALSE(feed.delta);
    for (const auto& r : session->requests())
      CHECK(split_target(r.target).query.count("updated_since") == 0);
  }
  SUBCASE("nothing changed: the cursor stays") {
    auto session = std::make_shared<FakeHttpSession>();
    session->then_status(200, R"({"items":[]})");
    HttpJsonWarehouse warehouse(config, session);
    const Feed feed = read(warehouse, ReadRequest{SyncKind::smart, "", old_cursor});
    CHECK(feed.delta);
    CHECK(feed.rows.empty());
    CHECK(feed.cursor == old_cursor);
  }
}

TEST_CASE(
    "incremental reads in link paging: the first request asks, the links are followed as given") {
  auto config = base_config();
  config.paging = config::JsonPaging::link;
  config.updated_since_param = "modified_since";
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200,
                       R"({"items":[{"sku":"A","quantity":1,"updated_at":"2026-11-26T10:00:00Z"},
                        {"sku":"B","quantity":1,"updated_at":"2026-11-26T10:00:00Z"}]})",
                       {{"Link", "</v1/inventory?token=p2>; rel=\"next\""}});
  session->then_status(200, R"({"items":[]})");
  HttpJsonWarehouse warehouse(config, session);
  const Feed feed = read(warehouse, ReadRequest{SyncKind::smart, "", "2026-11-25T00:00:00Z"});
  CHECK(feed.delta);
  CHECK(feed.cursor == "2026-11-26T10:00:00Z");
  CHECK(targets(*session) ==
        std::vector<std::string>{"/v1/inventory?per_page=2&modified_since=2026-11-25T00%3A00%3A00Z",
                                 "/v1/inventory?token=p2"});
}

TEST_CASE("the factory builds an http-json warehouse") {
  config::HttpJsonWarehouseConfig config;
  config.url = "https://api.example.com/v1/inventory?api_key=SECRET";
  auto warehouse = make_warehouse(config::WarehouseConfig{config});
  REQUIRE(warehouse != nullptr);
  CHECK(warehouse->describe() == "http-json https://api.example.com/v1/inventory?...");
}

TEST_CASE("a page redirected to another origin is read there without the credentials") {
  ScratchDir dir;
  write_file(dir / "token", "tok-SECRET-123\n");
  auto config = base_config();
  config.http.auth.bearer_token_file = dir / "token";
  auto session = std::make_shared<FakeHttpSession>();
  auto cdn = std::make_shared<FakeHttpSession>("https://cdn.test");
  session->elsewhere(cdn);
  session->then_status(302, "", {{"Location", "https://cdn.test/cache/page1.json"}});
  cdn->then_status(200, page_of("A=1,B=2"));
  session->then_status(200, page_of(""));  // page 2, asked of the configured URL again
  HttpJsonWarehouse warehouse(config, session);
  const Feed feed = read(warehouse);
  CHECK(rows(feed) == "A=1;B=2");
  REQUIRE(session->requests().size() == 2);
  CHECK(*header(session->requests()[0], "Authorization") == "Bearer tok-SECRET-123");
  CHECK(*header(session->requests()[1], "Authorization") == "Bearer tok-SECRET-123");
  REQUIRE(cdn->requests().size() == 1);
  CHECK(cdn->requests()[0].target == "/cache/page1.json");
  CHECK(header(cdn->requests()[0], "Authorization") == nullptr);
  CHECK(*header(cdn->requests()[0], "Accept") == "application/json");
}

TEST_CASE("a page redirect to an origin that cannot be reached fails the read, naming it") {
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(307, "", {{"Location", "https://nowhere.test/p"}});
  HttpJsonWarehouse warehouse(base_config(), session);
  const auto error = error_of(warehouse);
  CHECK(error.find("https://fake.test/v1/inventory: page 1: cannot follow the redirect to "
                   "https://nowhere.test: ") == 0);
}
