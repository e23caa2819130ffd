// The warehouses read over HTTP(S) (`type: csv` with `url`, `type: http-json`) and the location
// filter of every warehouse type: defaults, every key, and the checks that span keys, with errors
// naming the file, line and key.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <variant>

#include "config/config_loader.hpp"
#include "parse_helpers.hpp"

using namespace pb;
using namespace pb::config;
using namespace std::chrono_literals;

namespace {

using pb::test::parse;
using pb::test::what_of;
using pb::test::with_warehouse;

constexpr std::string_view kCsvUrl =
    "      type: csv\n"
    "      url: https://feeds.example.com/acme/inventory.csv\n";

constexpr std::string_view kJson =
    "      type: http-json\n"
    "      url: https://api.example.com/v1/inventory\n";

const CsvWarehouseConfig& csv_of(const Config& c) {
  REQUIRE(c.connections.size() == 1);
  REQUIRE(std::holds_alternative<CsvWarehouseConfig>(c.connections[0].warehouses.at(0).connector));
  return std::get<CsvWarehouseConfig>(c.connections[0].warehouses.at(0).connector);
}

const HttpJsonWarehouseConfig& json_of(const Config& c) {
  REQUIRE(c.connections.size() == 1);
  REQUIRE(
      std::holds_alternative<HttpJsonWarehouseConfig>(c.connections[0].warehouses.at(0).connector));
  return std::get<HttpJsonWarehouseConfig>(c.connections[0].warehouses.at(0).connector);
}

}  // namespace

TEST_CASE("csv warehouse from a url: defaults") {
  const auto c = parse(with_warehouse(kCsvUrl));
  const auto& w = csv_of(c);
  CHECK(w.url == "https://feeds.example.com/acme/inventory.csv");
  CHECK(w.path.empty());
  CHECK(w.http.timeout == 60s);
  CHECK(w.http.ca_file.empty());
  CHECK(w.http.auth == HttpAuthConfig{});
  CHECK(w.max_size == 1073741824u);
  CHECK(w.location_column.empty());
  CHECK(w.locations.empty());
  const CsvWarehouseConfig defaults;
  CHECK(w.max_size == defaults.max_size);
  CHECK(w.http.timeout == defaults.http.timeout);
}

TEST_CASE("csv warehouse from a url: every key") {
  const auto c = parse(with_warehouse(std::string(kCsvUrl) +
                                      "      bearer_token_file: $CREDENTIALS_DIRECTORY/feed-token\n"
                                      "      ca_file: certs/private-ca.pem\n"
                                      "      timeout: 5m\n"
                                      "      max_size: 2048\n"
                                      "      location_column: warehouse\n"
                                      "      locations: [EAST, \"WEST 2\"]\n"
                                      "      duplicates: sum\n"));
  const auto& w = csv_of(c);
  CHECK(w.http.auth.bearer_token_file == "$CREDENTIALS_DIRECTORY/feed-token");
  CHECK(w.http.ca_file == "/etc/packagebee/certs/private-ca.pem");
  CHECK(w.http.timeout == 5min);
  CHECK(w.max_size == 2048u);
  CHECK(w.location_column == "warehouse");
  CHECK(w.locations == std::vector<std::string>{"EAST", "WEST 2"});
  CHECK(w.duplicates == DuplicatePolicy::sum);

  const auto basic =
      parse(with_warehouse(std::string(kCsvUrl) + "      username: packagebee\n"
                                                  "      password_file: feed-password\n"));
  CHECK(csv_of(basic).http.auth.username == "packagebee");
  CHECK(csv_of(basic).http.auth.password_file == "/etc/packagebee/feed-password");

  // Plain http to this machine (a test server, a local proxy) is allowed.
  CHECK_NOTHROW(
      parse(with_warehouse("      type: csv\n      url: http://127.0.0.1:8080/inv.csv\n")));
}

TEST_CASE("csv warehouse: exactly one of path and url") {
  CHECK(what_of(with_warehouse("      type: csv\n      sku_column: code\n")) ==
        "test.yaml:4:7: connections.shop.warehouse.path: missing required key \"path\" (the feed "
        "file or directory) or \"url\" (the feed's address)");
  CHECK(what_of(with_warehouse(std::string(kCsvUrl) + "      path: /srv/feeds/acme.csv\n")) ==
        "test.yaml:5:12: connections.shop.warehouse.url: path and url cannot both be set: a feed "
        "is a local file or a URL");
}

TEST_CASE("csv warehouse: http keys go with url and pattern with path") {
  CHECK(what_of(with_warehouse("      type: csv\n"
                               "      path: /srv/feeds/acme.csv\n"
                               "      bearer_token_file: /etc/packagebee/token\n")) ==
        "test.yaml:6:26: connections.shop.warehouse.bearer_token_file: bearer_token_file is for a "
        "feed read from url, not from path");
  CHECK(what_of(with_warehouse("      type: csv\n"
                               "      path: /srv/feeds/acme.csv\n"
                               "      max_size: 100\n")) ==
        "test.yaml:6:17: connections.shop.warehouse.max_size: max_size is for a feed read from "
        "url, not from path");
  CHECK(what_of(with_warehouse(std::string(kCsvUrl) + "      pattern: \"inv_*.csv\"\n")) ==
        "test.yaml:6:16: connections.shop.warehouse.pattern: pattern is for a directory given as "
        "path, not for url");
  CHECK(what_of(with_warehouse(std::string(kCsvUrl) + "      max_size: 0\n")) ==
        "test.yaml:6:17: connections.shop.warehouse.max_size: must be between 1 and "
        "68719476736, got 0");
  CHECK(what_of(with_warehouse(std::string(kCsvUrl) + "      timeout: 0s\n")) ==
        "test.yaml:6:16: connections.shop.warehouse.timeout: must be between 1s and 1d, got 0s");
}

TEST_CASE("http warehouses: the url is https unless on this machine and holds no credentials") {
  CHECK(what_of(with_warehouse("      type: csv\n      url: http://feeds.example.com/inv.csv\n")) ==
        "test.yaml:5:12: connections.shop.warehouse.url: must be https:// (plain http is allowed "
        "only to this machine: the credentials would cross the network in clear)");
  CHECK(what_of(with_warehouse("      type: http-json\n"
                               "      url: https://user:secret@api.example.com/inventory\n")) ==
        "test.yaml:5:12: connections.shop.warehouse.url: not a usable URL: userinfo is not "
        "allowed in the URL: put credentials in a file");
  CHECK(what_of(with_warehouse("      type: http-json\n      url: api.example.com/inventory\n")) ==
        "test.yaml:5:12: connections.shop.warehouse.url: not a usable URL: not an absolute URL "
        "(no scheme://)");
  CHECK(what_of(with_warehouse("      type: http-json\n      page_size: 10\n")) ==
        "test.yaml:4:7: connections.shop.warehouse.url: missing required key \"url\" (the "
        "endpoint answering inventory pages, e.g. https://api.example.com/v1/inventory (https "
        "unless on this machine))");
}

TEST_CASE("http warehouses: bearer or basic, and basic needs both keys") {
  for (const auto type : {kCsvUrl, kJson}) {
    CAPTURE(type);
    CHECK(what_of(with_warehouse(std::string(type) + "      username: packagebee\n")) ==
          "test.yaml:6:17: connections.shop.warehouse.username: username needs password_file "
          "(HTTP Basic)");
    CHECK(what_of(with_warehouse(std::string(type) + "      password_file: /etc/pw\n")) ==
          "test.yaml:6:22: connections.shop.warehouse.password_file: password_file needs "
          "username (HTTP Basic)");
    CHECK(what_of(with_warehouse(std::string(type) + "      username: packagebee\n"
                                                     "      password_file: /etc/pw\n"
                                                     "      bearer_token_file: /etc/token\n")) ==
          "test.yaml:8:26: connections.shop.warehouse.bearer_token_file: bearer_token_file and "
          "username/password_file cannot both be set: choose bearer or basic authentication");
  }
}

TEST_CASE("locations: a list that needs the location column or field") {
  CHECK(what_of(with_warehouse(std::string(kCsvUrl) + "      locations: [EAST]\n")) ==
        "test.yaml:6:18: connections.shop.warehouse.locations: locations needs location_column "
        "(where each row's location is)");
  CHECK(what_of(with_warehouse(std::string(kJson) + "      locations: [EAST]\n")) ==
        "test.yaml:6:18: connections.shop.warehouse.locations: locations needs location_field "
        "(where each row's location is)");
  CHECK(what_of(with_warehouse("      type: postgres\n"
                               "      conninfo: dbname=wms\n"
                               "      query: TABLE stock\n"
                               "      locations: [EAST]\n")) ==
        "test.yaml:7:18: connections.shop.warehouse.locations: locations needs location_column "
        "(where each row's location is)");
  CHECK(what_of(with_warehouse(std::string(kJson) + "      location_field: site.code\n"
                                                    "      locations: [EAST, \"\"]\n")) ==
        "test.yaml:7:25: connections.shop.warehouse.locations[1]: must not be empty");
  CHECK(
      what_of(with_warehouse(std::string(kJson) + "      location_field: site\n"
                                                  "      locations: {EAST: 1}\n"))
          .find("connections.shop.warehouse.locations: expected a list of locations, got a map") !=
      std::string::npos);

  // One location may be written without the brackets.
  const auto one = parse(with_warehouse(std::string(kJson) + "      location_field: site\n"
                                                             "      locations: EAST\n"));
  CHECK(json_of(one).locations == std::vector<std::string>{"EAST"});
  const auto postgres =
      parse(with_warehouse("      type: postgres\n"
                           "      conninfo: dbname=wms\n"
                           "      query: TABLE stock\n"
                           "      location_column: site\n"
                           "      locations:\n"
                           "        - EAST\n"
                           "        - WEST\n"));
  const auto& p =
      std::get<PostgresWarehouseConfig>(postgres.connections.at(0).warehouses.at(0).connector);
  CHECK(p.location_column == "site");
  CHECK(p.locations == std::vector<std::string>{"EAST", "WEST"});
}

TEST_CASE("http-json warehouse: defaults") {
  const auto c = parse(with_warehouse(kJson));
  const auto& w = json_of(c);
  CHECK(w.url == "https://api.example.com/v1/inventory");
  CHECK(w.paging == JsonPaging::page);
  CHECK(w.page_param == "page");
  CHECK(w.size_param == "per_page");
  CHECK(w.offset_param == "offset");
  CHECK(w.cursor_param == "cursor");
  CHECK(w.next_cursor_field == "next_cursor");
  CHECK(w.page_size == 100);
  CHECK(w.first_page == 1);
  CHECK(w.items_field == "items");
  CHECK(w.sku_field == "sku");
  CHECK(w.quantity_field == "quantity");
  CHECK(w.location_field.empty());
  CHECK(w.locations.empty());
  CHECK(w.updated_since_param.empty());
  CHECK(w.updated_at_field == "updated_at");
  CHECK(w.duplicates == DuplicatePolicy::error);
  CHECK(w.max_pages == 100000);
  CHECK(w.http.timeout == 60s);
  CHECK(w.http.auth == HttpAuthConfig{});

  // The size parameter's default follows the paging.
  CHECK(json_of(parse(with_warehouse(std::string(kJson) + "      paging: offset\n"))).size_param ==
        "limit");
  CHECK(json_of(parse(with_warehouse(std::string(kJson) + "      paging: cursor\n"))).size_param ==
        "per_page");
}

TEST_CASE("http-json warehouse: every key") {
  const auto c = parse(with_warehouse(std::string(kJson) +
                                      "      paging: cursor\n"
                                      "      page_param: pgnum\n"
                                      "      size_param: pgsiz\n"
                                      "      offset_param: skip\n"
                                      "      cursor_param: after\n"
                                      "      next_cursor_field: meta.next\n"
                                      "      page_size: 250\n"
                                      "      first_page: 0\n"
                                      "      items_field: \"\"\n"
                                      "      sku_field: item.sku\n"
                                      "      quantity_field: stock.available\n"
                                      "      location_field: site\n"
                                      "      locations: [EAST]\n"
                                      "      updated_at_field: stock.modified\n"
                                      "      duplicates: sum\n"
                                      "      max_pages: 50\n"
                                      "      username: packagebee\n"
                                      "      password_file: $CREDENTIALS_DIRECTORY/api-password\n"
                                      "      ca_file: /etc/ssl/private-ca.pem\n"
                                      "      timeout: 2m\n"));
  const auto& w = json_of(c);
  CHECK(w.paging == JsonPaging::cursor);
  CHECK(w.page_param == "pgnum");
  CHECK(w.size_param == "pgsiz");
  CHECK(w.offset_param == "skip");
  CHECK(w.cursor_param == "after");
  CHECK(w.next_cursor_field == "meta.next");
  CHECK(w.page_size == 250);
  CHECK(w.first_page == 0);
  CHECK(w.items_field.empty());
  CHECK(w.sku_field == "item.sku");
  CHECK(w.quantity_field == "stock.available");
  CHECK(w.location_field == "site");
  CHECK(w.locations == std::vector<std::string>{"EAST"});
  CHECK(w.updated_since_param.empty());  // not with location_field: see below
  CHECK(w.updated_at_field == "stock.modified");
  CHECK(w.duplicates == DuplicatePolicy::sum);
  CHECK(w.max_pages == 50);
  CHECK(w.http.auth.username == "packagebee");
  CHECK(w.http.auth.password_file == "$CREDENTIALS_DIRECTORY/api-password");
  CHECK(w.http.ca_file == "/etc/ssl/private-ca.pem");
  CHECK(w.http.timeout == 2min);

  for (const char* paging : {"page", "offset", "cursor", "link"})
    CHECK_NOTHROW(parse(with_warehouse(std::string(kJson) + "      paging: " + paging + "\n")));
  CHECK(json_of(parse(with_warehouse(std::string(kJson) + "      items_field: data.rows\n")))
            .items_field == "data.rows");
}

TEST_CASE("http-json warehouse: incremental reads exclude totals made of several items") {
  CHECK(
      what_of(with_warehouse(std::string(kJson) + "      location_field: site\n"
                                                  "      updated_since_param: updated_since\n")) ==
      "test.yaml:7:28: connections.shop.warehouse.updated_since_param: updated_since_param "
      "cannot be combined with location_field: an incremental read returns only the locations "
      "that changed, and a SKU's total needs all of them");
  CHECK(what_of(with_warehouse(std::string(kJson) + "      updated_since_param: updated_since\n"
                                                    "      duplicates: sum\n")) ==
        "test.yaml:6:28: connections.shop.warehouse.updated_since_param: updated_since_param "
        "cannot be combined with duplicates: sum: an incremental read returns only the items "
        "that changed, and a SKU's sum needs all of them");
  CHECK(json_of(parse(with_warehouse(std::string(kJson) +
                                     "      updated_since_param: updated_since\n")))
            .updated_since_param == "updated_since");
}

TEST_CASE("http-json warehouse: bad values name the line and key") {
  CHECK(what_of(with_warehouse(std::string(kJson) + "      paging: token\n")) ==
        "test.yaml:6:15: connections.shop.warehouse.paging: expected one of page, offset, cursor, "
        "link, got \"token\"");
  CHECK(what_of(with_warehouse(std::string(kJson) + "      page_size: 0\n")) ==
        "test.yaml:6:18: connections.shop.warehouse.page_size: must be between 1 and 100000, got "
        "0");
  CHECK(what_of(with_warehouse(std::string(kJson) + "      first_page: 2\n")) ==
        "test.yaml:6:19: connections.shop.warehouse.first_page: must be between 0 and 1, got 2");
  CHECK(what_of(with_warehouse(std::string(kJson) + "      max_pages: 0\n")) ==
        "test.yaml:6:18: connections.shop.warehouse.max_pages: must be between 1 and 2147483647, "
        "got 0");
  CHECK(what_of(with_warehouse(std::string(kJson) + "      quantity_field: stock..available\n")) ==
        "test.yaml:6:23: connections.shop.warehouse.quantity_field: not a field path: "
        "\"stock..available\" has an empty segment (write fields separated by single dots, e.g. "
        "stock.available)");
  CHECK(what_of(with_warehouse(std::string(kJson) + "      items_field: .items\n"))
            .find("test.yaml:6:20: connections.shop.warehouse.items_field: not a field path") == 0);
  CHECK(what_of(with_warehouse(std::string(kJson) + "      items_field: [a]\n")) ==
        "test.yaml:6:20: connections.shop.warehouse.items_field: expected a string, got a list");
  CHECK(what_of(with_warehouse(std::string(kJson) + "      sku_field: \"\"\n")) ==
        "test.yaml:6:18: connections.shop.warehouse.sku_field: must not be empty");
  CHECK(what_of(with_warehouse(std::string(kJson) + "      path: /srv/feed.csv\n"))
            .find("test.yaml:6:7: connections.shop.warehouse.path: unknown key \"path\"") == 0);
}
