// A `type: csv` warehouse given as a URL, against a scripted session: conditional requests
// and the validator they keep, the same parsing rules as a local file, authentication that
// never shows, and errors.
#include "connectors/warehouse/csv/http_csv_source.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "connectors/warehouse/csv/csv_warehouse.hpp"
#include "fake_http_session.hpp"
#include "test_support.hpp"
#include "warehouse_reads.hpp"

using namespace pb;
using namespace pb::connectors;
using pb::test::error_of;
using pb::test::FakeHttpSession;
using pb::test::header;
using pb::test::read;
using pb::test::ScratchDir;
using pb::test::write_file;

namespace {

constexpr std::string_view kEtag = "W/\"5f2-abc\"";
constexpr std::string_view kDate = "Wed, 25 Nov 2026 10:00:00 GMT";

config::CsvWarehouseConfig url_config() {
  config::CsvWarehouseConfig config;
  config.url = "https://fake.test/exports/inventory.csv";
  return config;
}

std::string rows(const Feed& feed) {
  std::string out;
  for (const auto& row : feed.rows) {
    if (!out.empty()) out += ';';
    out += row.sku + "=" + std::to_string(row.quantity) + "@" + std::to_string(row.line);
  }
  return out;
}

std::string stored_validator() {
  return encode_validator({std::string(kEtag), std::string(kDate)});
}

}  // namespace

TEST_CASE("validators: both kept in one string, and a stored one that does not parse is none") {
  const HttpValidator both{std::string(kEtag), std::string(kDate)};
  CHECK(encode_validator(both) == "ETag: W/\"5f2-abc\"\nLast-Modified: " + std::string(kDate));
  CHECK(decode_validator(encode_validator(both)) == both);
  const HttpValidator etag_only{"\"x\"", ""};
  CHECK(encode_validator(etag_only) == "ETag: \"x\"");
  CHECK(decode_validator(encode_validator(etag_only)) == etag_only);
  const HttpValidator date_only{"", std::string(kDate)};
  CHECK(decode_validator(encode_validator(date_only)) == date_only);
  CHECK(encode_validator({}) == "");
  CHECK(decode_validator("").empty());
  CHECK(decode_validator("garbage from another version").empty());
  CHECK(decode_validator("ETag: \"a\rb\"").empty());  // never a header with a line break
  CHECK(decode_validator("ETag: ").empty());
}

TEST_CASE("a full read downloads with no validator, parses the CSV and keeps the new validator") {
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200, "sku,quantity\nB,2\nA,1\n",
                       {{"ETag", std::string(kEtag)}, {"Last-Modified", std::string(kDate)}});
  CsvWarehouse warehouse(url_config(), session);
  const Feed feed = read(warehouse, ReadRequest{SyncKind::full, stored_validator(), ""});
  CHECK(rows(feed) == "A=1@3;B=2@2");
  CHECK(feed.origin == "https://fake.test/exports/inventory.csv");
  CHECK_FALSE(feed.unchanged);
  CHECK_FALSE(feed.delta);
  CHECK(feed.validator == stored_validator());
  REQUIRE(session->requests().size() == 1);
  const auto& request = session->requests()[0];
  CHECK(request.method == "GET");
  CHECK(request.target == "/exports/inventory.csv");
  CHECK(header(request, "If-None-Match") == nullptr);
  CHECK(header(request, "If-Modified-Since") == nullptr);
  CHECK(header(request, "Accept-Encoding") == nullptr);
  CHECK(header(request, "Authorization") == nullptr);
  CHECK(warehouse.describe() == "csv https://fake.test/exports/inventory.csv");
}

TEST_CASE("a smart read asks conditionally, and a 304 is an unchanged feed with nothing parsed") {
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(304, "");
  CsvWarehouse warehouse(url_config(), session);
  const Feed feed = read(warehouse, ReadRequest{SyncKind::smart, stored_validator(), ""});
  CHECK(feed.unchanged);
  CHECK(feed.rows.empty());
  CHECK(feed.problems.empty());
  CHECK(feed.validator == stored_validator());
  REQUIRE(session->requests().size() == 1);
  CHECK(*header(session->requests()[0], "If-None-Match") == kEtag);
  CHECK(*header(session->requests()[0], "If-Modified-Since") == kDate);

  // A 304 may bring a newer validator; what it leaves out stays.
  auto renewed = std::make_shared<FakeHttpSession>();
  renewed->then_status(304, "", {{"ETag", "\"v2\""}});
  CsvWarehouse again(url_config(), renewed);
  const Feed kept = read(again, ReadRequest{SyncKind::smart, stored_validator(), ""});
  CHECK(decode_validator(kept.validator) == HttpValidator{"\"v2\"", std::string(kDate)});
}

TEST_CASE("a smart read of a changed feed parses it and returns the new validator") {
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200, "sku,quantity\nA,9\n", {{"ETag", "\"v3\""}});
  CsvWarehouse warehouse(url_config(), session);
  const Feed feed = read(warehouse, ReadRequest{SyncKind::smart, stored_validator(), ""});
  CHECK_FALSE(feed.unchanged);
  CHECK(rows(feed) == "A=9@2");
  CHECK(feed.validator == "ETag: \"v3\"");

  // The round trip: what this read returned is what the next one sends.
  auto next = std::make_shared<FakeHttpSession>();
  next->then_status(304, "");
  CsvWarehouse later(url_config(), next);
  CHECK(read(later, ReadRequest{SyncKind::smart, feed.validator, ""}).unchanged);
  CHECK(*header(next->requests()[0], "If-None-Match") == "\"v3\"");
  CHECK(header(next->requests()[0], "If-Modified-Since") == nullptr);
}

TEST_CASE("without a validator a read is unconditional, and a 304 to it is an error") {
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(304, "");
  CsvWarehouse warehouse(url_config(), session);
  CHECK(error_of(warehouse, ReadRequest{SyncKind::smart, "", ""}) ==
        "https://fake.test/exports/inventory.csv: HTTP 304");
  CHECK(header(session->requests()[0], "If-None-Match") == nullptr);
}

TEST_CASE("a feed over HTTP follows the local file's rules: problems, held SKUs, locations") {
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200,
                       "sku,quantity,location\n"
                       "A,5,EAST\n"
                       "A,7,WEST\n"
                       "B,,EAST\n"
                       "C,3,NORTH\n");
  auto config = url_config();
  config.location_column = "location";
  config.locations = {"EAST", "WEST"};
  CsvWarehouse warehouse(config, session);
  const Feed feed = read(warehouse);
  CHECK(rows(feed) == "A=12@2");
  REQUIRE(feed.problems.size() == 1);
  CHECK(feed.problems[0].line == 4);
  CHECK(feed.problems[0].message == "blank quantity (blank is not zero)");
  CHECK(feed.held_skus == std::vector<std::string>{"B"});

  auto empty = std::make_shared<FakeHttpSession>();
  empty->then_status(200, "");
  CsvWarehouse nothing(url_config(), empty);
  CHECK(error_of(nothing) ==
        "https://fake.test/exports/inventory.csv: empty file (expected a header line)");
}

TEST_CASE("a status that is not 2xx fails the read, and the token is sent but never shown") {
  ScratchDir dir;
  write_file(dir / "token", "tok-SECRET-987\n");
  auto config = url_config();
  config.url = "https://fake.test/exports/inventory.csv?key=QUERYSECRET";
  config.http.auth.bearer_token_file = dir / "token";
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(403, "<html>\n<body>Forbidden for tok-SECRET-987</body>\n</html>\n");
  CsvWarehouse warehouse(config, session);
  const std::string error = error_of(warehouse);
  CHECK(error ==
        "https://fake.test/exports/inventory.csv?...: HTTP 403 (check bearer_token_file, or "
        "username and password_file): <html> <body>Forbidden for [redacted]</body> </html>");
  CHECK(*header(session->requests()[0], "Authorization") == "Bearer tok-SECRET-987");
  CHECK(session->requests()[0].target == "/exports/inventory.csv?key=QUERYSECRET");
  CHECK(warehouse.describe() == "csv https://fake.test/exports/inventory.csv?...");
  CHECK(warehouse.describe().find("SECRET") == std::string::npos);
}

TEST_CASE("a compressed feed that was not asked for is refused, not parsed as text") {
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(200, std::string("\x1f\x8b\x08", 3), {{"Content-Encoding", "gzip"}});
  CsvWarehouse warehouse(url_config(), session);
  CHECK(error_of(warehouse) ==
        "https://fake.test/exports/inventory.csv: the server sent the feed compressed "
        "(Content-Encoding: gzip), which was not asked for");
}

TEST_CASE("a transport failure that retries cannot mend ends the read at once") {
  auto session = std::make_shared<FakeHttpSession>();
  session->then([](const net::Request&) -> net::Response {
    throw net::TransportError(net::FailureKind::too_large,
                              "https://fake.test: response larger than 1024 bytes");
  });
  CsvWarehouse warehouse(url_config(), session);
  CHECK(error_of(warehouse) ==
        "https://fake.test/exports/inventory.csv: response larger than 1024 bytes (raise "
        "max_size if it is right)");
  CHECK(session->requests().size() == 1);
}

TEST_CASE("a redirect at the same origin is followed with the credentials and the validators") {
  ScratchDir dir;
  write_file(dir / "token", "tok-SECRET-987\n");
  auto config = url_config();
  config.http.auth.bearer_token_file = dir / "token";
  auto session = std::make_shared<FakeHttpSession>();
  session->then_status(302, "", {{"Location", "/moved/inventory.csv"}});
  session->then_status(304, "", {{"ETag", std::string(kEtag)}});
  CsvWarehouse warehouse(config, session);
  const Feed feed = read(warehouse, ReadRequest{SyncKind::smart, stored_validator(), ""});
  CHECK(feed.unchanged);  // the 304 after the redirect still means "unchanged"
  CHECK(feed.validator == stored_validator());
  REQUIRE(session->requests().size() == 2);
  const auto& hop = session->requests()[1];
  CHECK(hop.target == "/moved/inventory.csv");
  CHECK(*header(hop, "Authorization") == "Bearer tok-SECRET-987");
  CHECK(*header(hop, "If-None-Match") == kEtag);
  CHECK(*header(hop, "If-Modified-Since") == kDate);
}

TEST_CASE("a redirect to another origin gets no credentials, and its answer is the feed") {
  ScratchDir dir;
  write_file(dir / "password", "pw-SECRET-123");
  auto config = url_config();
  config.http.auth.username = "feeds";
  config.http.auth.password_file = dir / "password";
  auto session = std::make_shared<FakeHttpSession>();
  auto cdn = std::make_shared<FakeHttpSession>("https://cdn.test");
  session->elsewhere(cdn);
  for (const unsigned status : {301u, 303u, 307u, 308u}) {
    CAPTURE(status);
    session->then_status(status, "", {{"Location", "https://cdn.test/x/inventory.csv?sig=1"}});
    cdn->then_status(200, "sku,quantity\nA,1\n", {{"ETag", "\"cdn\""}});
    CsvWarehouse warehouse(config, session);
    const Feed feed = read(warehouse, ReadRequest{SyncKind::full, "", ""});
    CHECK(rows(feed) == "A=1@2");
    CHECK(feed.origin == "https://fake.test/exports/inventory.csv");  // the configured one
    CHECK(feed.validator == "ETag: \"cdn\"");
    REQUIRE(header(session->requests().back(), "Authorization") != nullptr);
    const auto& hop = cdn->requests().back();
    CHECK(hop.target == "/x/inventory.csv?sig=1");
    CHECK(header(hop, "Authorization") == nullptr);  // never to another origin
  }
}

TEST_CASE("a redirect to another port or scheme of the same host is another origin too") {
  ScratchDir dir;
  write_file(dir / "token", "tok-SECRET-987\n");
  auto config = url_config();
  config.http.auth.bearer_token_file = dir / "token";
  auto session = std::make_shared<FakeHttpSession>();
  auto other_port = std::make_shared<FakeHttpSession>("https://fake.test:8443");
  session->elsewhere(other_port);
  session->then_status(302, "", {{"Location", "https://fake.test:8443/inventory.csv"}});
  other_port->then_status(200, "sku,quantity\nA,1\n");
  CsvWarehouse warehouse(config, session);
  read(warehouse, ReadRequest{SyncKind::full, "", ""});
  REQUIRE(other_port->requests().size() == 1);
  CHECK(header(other_port->requests()[0], "Authorization") == nullptr);
}

TEST_CASE("redirects that are not followed: a loop, too many, plain http, no Location") {
  auto config = url_config();
  config.url = "https://fake.test/exports/inventory.csv?key=QUERYSECRET";
  SUBCASE("a loop") {
    auto session = std::make_shared<FakeHttpSession>();
    session->then_status(302, "", {{"Location", "/b.csv"}});
    session->then_status(302, "", {{"Location", "/exports/inventory.csv?key=QUERYSECRET"}});
    CsvWarehouse warehouse(config, session);
    CHECK(error_of(warehouse) ==
          "https://fake.test/exports/inventory.csv?...: redirect loop: https://fake.test/b.csv "
          "sends back to https://fake.test/exports/inventory.csv?...");
  }
  SUBCASE("more than 5 hops") {
    auto session = std::make_shared<FakeHttpSession>();
    for (int i = 1; i <= 6; ++i)
      session->then_status(307, "", {{"Location", "/hop" + std::to_string(i) + ".csv"}});
    CsvWarehouse warehouse(config, session);
    CHECK(error_of(warehouse) ==
          "https://fake.test/exports/inventory.csv?...: too many redirects (more than 5), the "
          "last from https://fake.test/hop5.csv");
    CHECK(session->requests().size() == 6);
  }
  SUBCASE("to plain http off loopback") {
    auto session = std::make_shared<FakeHttpSession>();
    session->then_status(301, "", {{"Location", "http://fake.test/inventory.csv"}});
    CsvWarehouse warehouse(config, session);
    CHECK(error_of(warehouse) ==
          "https://fake.test/exports/inventory.csv?...: HTTP 301 from "
          "https://fake.test/exports/inventory.csv?... to http://fake.test/inventory.csv "
          "refused: plain http is allowed only to a loopback address");
  }
  SUBCASE("without a Location") {
    auto session = std::make_shared<FakeHttpSession>();
    session->then_status(302, "");
    CsvWarehouse warehouse(config, session);
    CHECK(error_of(warehouse) ==
          "https://fake.test/exports/inventory.csv?...: HTTP 302 from "
          "https://fake.test/exports/inventory.csv?... without a Location to follow");
  }
}
