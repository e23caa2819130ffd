// Reading the pages of a `type: http-json` warehouse without HTTP: field paths, what a quantity
// may be, bad items named by page and index, locations, updated_at and RFC 3339 times.
#include "connectors/warehouse/http/json_feed_builder.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "connectors/warehouse/http/json_field_path.hpp"
#include "connectors/warehouse/http/rfc3339_time.hpp"
#include "test_support.hpp"

using namespace pb;
using namespace pb::connectors;
namespace json = boost::json;

using pb::test::dump;

namespace {

std::string at(const JsonFieldPath& path, std::string_view document) {
  const json::value root = json::parse(document);
  const json::value* found = path.find(root);
  return found == nullptr ? "(absent)" : json::serialize(*found);
}

std::string utc(std::string_view text) {
  const auto t = parse_rfc3339(text);
  return t ? format_rfc3339_utc(*t) : "(invalid)";
}

}  // namespace

TEST_CASE("field paths: dotted fields, list indexes, the value itself") {
  const std::string_view doc = R"({"a":{"b":[{"c":1},{"c":null}],"7":"seven"},"d":2})";
  CHECK(at(JsonFieldPath("d"), doc) == "2");
  CHECK(at(JsonFieldPath("a.b.0.c"), doc) == "1");
  CHECK(at(JsonFieldPath("a.b.1.c"), doc) == "null");
  CHECK(at(JsonFieldPath("a.7"), doc) == "\"seven\"");  // digits name a field of an object
  CHECK(at(JsonFieldPath("a.b.2.c"), doc) == "(absent)");
  CHECK(at(JsonFieldPath("a.b.x"), doc) == "(absent)");
  CHECK(at(JsonFieldPath("d.e"), doc) == "(absent)");
  CHECK(at(JsonFieldPath("zz"), doc) == "(absent)");
  CHECK(at(JsonFieldPath(""), "[1]") == "[1]");
  CHECK(JsonFieldPath("").empty());
  CHECK_THROWS_AS(JsonFieldPath("a..b"), std::invalid_argument);
  CHECK_THROWS_AS(JsonFieldPath(".a"), std::invalid_argument);
  CHECK_THROWS_AS(JsonFieldPath("a."), std::invalid_argument);
}

TEST_CASE("RFC 3339 times: offsets normalised to UTC, fractions cut, nonsense refused") {
  CHECK(utc("2026-11-26T17:41:12Z") == "2026-11-26T17:41:12Z");
  CHECK(utc("2026-11-26T17:41:12.999999+01:00") == "2026-11-26T16:41:12Z");
  CHECK(utc("2026-11-26t23:30:00-05:30") == "2026-11-27T05:00:00Z");
  CHECK(utc("2026-01-01 00:15:00+00:30") == "2025-12-31T23:45:00Z");
  CHECK(utc("2024-02-29T12:00:00z") == "2024-02-29T12:00:00Z");
  CHECK(utc("2016-12-31T23:59:60Z") == "2016-12-31T23:59:59Z");
  for (const char* bad :
       {"", "2026-11-26", "2026-11-26T17:41:12", "2026-11-26T17:41Z", "2026-02-30T00:00:00Z",
        "2026-11-26T24:00:00Z", "2026-11-26T17:41:12.Z", "2026-11-26T17:41:12+0100",
        "2026-11-26T17:41:12+01:00 ", "1764178872", "26-11-2026T17:41:12Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_rfc3339(bad).has_value());
  }
  // Compared as time points: the same instant written in two zones is equal.
  CHECK(parse_rfc3339("2026-11-26T18:00:00+01:00") == parse_rfc3339("2026-11-26T17:00:00Z"));
}

TEST_CASE("items: SKU and quantity by field path, as integers or strings holding one") {
  config::HttpJsonWarehouseConfig config;
  config.items_field = "data.inventory";
  config.sku_field = "product.sku";
  config.quantity_field = "stock.available";
  JsonFeedBuilder builder(config, "https://api.example.com/inv");
  const auto page = builder.add_page(R"({"data":{"inventory":[
      {"product":{"sku":"B"},"stock":{"available":4}},
      {"product":{"sku":" A "},"stock":{"available":"-2"}},
      {"product":{"sku":1234},"stock":{"available":7.0}},
      {"product":{"sku":"D"},"stock":{"available":"+3"}}]}})",
                                     1);
  CHECK(page.items == 4);
  CHECK_FALSE(page.next_cursor.has_value());
  CHECK(dump(builder.finish()) == "1234=7@3;A=-2@2;B=4@1;D=3@4;\n");
}

TEST_CASE("items that cannot be used are problems naming page, index and SKU, and hold the SKU") {
  config::HttpJsonWarehouseConfig config;
  JsonFeedBuilder builder(config, "https://api.example.com/inv");
  builder.add_page(R"({"items":[{"sku":"OK","quantity":1},{"sku":"N","quantity":null}]})", 1);
  builder.add_page(R"({"items":[
      {"sku":"F","quantity":2.5},
      {"sku":"S","quantity":"lots"},
      {"sku":"M"},
      {"quantity":3},
      {"sku":"  ","quantity":3},
      "just a string",
      {"sku":"T","quantity":true},
      {"sku":"BIG","quantity":18446744073709551615},
      {"sku":"E","quantity":""},
      {"sku":{"id":1},"quantity":1},
      {"sku":"OK2","quantity":5}]})",
                   2);
  CHECK(dump(builder.finish()) ==
        "OK=1@1;OK2=5@13;\n"
        "2|N|page 1, items[1]: SKU 'N': quantity is null (null is not zero)\n"
        "3|F|page 2, items[0]: SKU 'F': quantity '2.5' is not an integer\n"
        "4|S|page 2, items[1]: SKU 'S': quantity 'lots' is not an integer\n"
        "5|M|page 2, items[2]: SKU 'M': no quantity ('quantity' is absent)\n"
        "6||page 2, items[3]: no SKU ('sku' is absent)\n"
        "7||page 2, items[4]: no SKU (blank)\n"
        "8||page 2, items[5]: expected an object, got a string\n"
        "9|T|page 2, items[6]: SKU 'T': quantity 'true' is a boolean, not a number\n"
        "10|BIG|page 2, items[7]: SKU 'BIG': quantity '18446744073709551615' is out of range\n"
        "11|E|page 2, items[8]: SKU 'E': blank quantity (blank is not zero)\n"
        "12||page 2, items[9]: no SKU ('sku' is an object)\n"
        "BIG,E,F,M,N,S,T,");
}

TEST_CASE("a body that is not a page is an error naming the page") {
  config::HttpJsonWarehouseConfig config;
  JsonFeedBuilder builder(config, "https://api.example.com/inv");
  CHECK_THROWS_WITH_AS(
      builder.add_page("<html>502</html>", 3),
      doctest::Contains("https://api.example.com/inv: page 3: the body is not JSON"),
      WarehouseError);
  CHECK_THROWS_WITH_AS(builder.add_page(R"({"data":[]})", 4),
                       "https://api.example.com/inv: page 4: expected a list of items: the field "
                       "'items' is absent",
                       WarehouseError);
  CHECK_THROWS_WITH_AS(builder.add_page(R"({"items":{"a":1}})", 5),
                       "https://api.example.com/inv: page 5: expected a list of items: the field "
                       "'items' is an object",
                       WarehouseError);
  CHECK(builder.add_page(R"({"items":null})", 6).items == 0);

  config.items_field = "";
  JsonFeedBuilder bare(config, "https://api.example.com/inv");
  CHECK(bare.add_page(R"([{"sku":"A","quantity":1}])", 1).items == 1);
  CHECK_THROWS_WITH_AS(
      bare.add_page(R"({"sku":"A"})", 2),
      "https://api.example.com/inv: page 2: expected a list of items: the body is an object",
      WarehouseError);
  CHECK(dump(bare.finish()) == "A=1@1;\n");
}

TEST_CASE("the next cursor is read from the body in cursor paging") {
  config::HttpJsonWarehouseConfig config;
  config.paging = config::JsonPaging::cursor;
  config.next_cursor_field = "meta.next";
  JsonFeedBuilder builder(config, "https://api.example.com/inv");
  CHECK(builder.add_page(R"({"items":[],"meta":{"next":"abc"}})", 1).next_cursor == "abc");
  CHECK(builder.add_page(R"({"items":[],"meta":{"next":42}})", 2).next_cursor == "42");
  CHECK_FALSE(builder.add_page(R"({"items":[],"meta":{"next":null}})", 3).next_cursor);
  CHECK_FALSE(builder.add_page(R"({"items":[],"meta":{"next":""}})", 4).next_cursor);
  CHECK_FALSE(builder.add_page(R"({"items":[]})", 5).next_cursor);
  CHECK_THROWS_WITH_AS(builder.add_page(R"({"items":[],"meta":{"next":[1]}})", 6),
                       "https://api.example.com/inv: page 6: the next cursor at 'meta.next' is a "
                       "list, not a string or an integer",
                       WarehouseError);
}

TEST_CASE("a location field: items at other locations are left out, the rest added up per SKU") {
  config::HttpJsonWarehouseConfig config;
  config.location_field = "location.code";
  config.locations = {"EAST", "WEST"};
  JsonFeedBuilder builder(config, "https://api.example.com/inv");
  builder.add_page(R"({"items":[
      {"sku":"A","quantity":5,"location":{"code":"EAST"}},
      {"sku":"A","quantity":7,"location":{"code":"WEST"}},
      {"sku":"B","quantity":1,"location":{"code":"NORTH"}},
      {"sku":"C","quantity":null,"location":{"code":"NORTH"}},
      {"sku":"D","quantity":4},
      {"sku":"E","quantity":1,"location":{"code":"EAST"}},
      {"sku":"E","quantity":1,"location":{"code":"EAST"}}]})",
                   1);
  CHECK(dump(builder.finish()) ==
        "A=12@1;\n"
        "6|E|duplicate SKU 'E' (also on line 7)\n"
        "7|E|duplicate SKU 'E' (also on line 6)\n"
        "E,");

  config.locations.clear();
  config.duplicates = DuplicatePolicy::sum;
  JsonFeedBuilder all(config, "https://api.example.com/inv");
  all.add_page(R"({"items":[
      {"sku":"A","quantity":5,"location":{"code":"EAST"}},
      {"sku":"A","quantity":7,"location":{"code":7}},
      {"sku":"A","quantity":1},
      {"sku":"A","quantity":2,"location":{"code":"EAST"}}]})",
               1);
  CHECK(dump(all.finish()) == "A=15@1;\n");
}

TEST_CASE("updated_at: the newest as a time point, and required for incremental reads") {
  config::HttpJsonWarehouseConfig config;
  JsonFeedBuilder lenient(config, "https://api.example.com/inv");
  lenient.add_page(R"({"items":[
      {"sku":"A","quantity":1,"updated_at":"2026-11-26T18:30:00+02:00"},
      {"sku":"B","quantity":1,"updated_at":"2026-11-26T16:45:00Z"},
      {"sku":"C","quantity":1,"updated_at":"2026-11-26T12:00:00-05:00"},
      {"sku":"D","quantity":1,"updated_at":"yesterday"},
      {"sku":"E","quantity":1}]})",
                   1);
  // 12:00-05:00 is 17:00Z, the newest; as strings, "2026-11-26T18:30:00+02:00" would win.
  REQUIRE(lenient.newest_update().has_value());
  CHECK(format_rfc3339_utc(*lenient.newest_update()) == "2026-11-26T17:00:00Z");
  CHECK(dump(lenient.finish()) == "A=1@1;B=1@2;C=1@3;D=1@4;E=1@5;\n");

  config.updated_since_param = "updated_since";
  config.updated_at_field = "meta.modified";
  JsonFeedBuilder strict(config, "https://api.example.com/inv");
  strict.add_page(R"({"items":[
      {"sku":"A","quantity":1,"meta":{"modified":"2026-11-26T16:30:00Z"}},
      {"sku":"D","quantity":1,"meta":{"modified":"yesterday"}},
      {"sku":"E","quantity":1},
      {"sku":"F","quantity":1,"meta":{"modified":1764178872}}]})",
                  1);
  CHECK(format_rfc3339_utc(*strict.newest_update()) == "2026-11-26T16:30:00Z");
  CHECK(dump(strict.finish()) ==
        "A=1@1;\n"
        "2|D|page 1, items[1]: SKU 'D': 'meta.modified' 'yesterday' is not an RFC 3339 "
        "time\n"
        "3|E|page 1, items[2]: SKU 'E': no 'meta.modified' (needed for incremental reads)\n"
        "4|F|page 1, items[3]: SKU 'F': 'meta.modified' '1764178872' is not an RFC 3339 time\n"
        "D,E,F,");

  JsonFeedBuilder none(config, "https://api.example.com/inv");
  none.add_page(R"({"items":[]})", 1);
  CHECK_FALSE(none.newest_update().has_value());
}
