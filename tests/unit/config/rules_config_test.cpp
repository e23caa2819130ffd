// Several warehouses, listings, bundles, the buffer forms, the Full Sync calendar and the alert
// hook: what they read as, and the errors that name file, line and key.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "../temp_dir.hpp"
#include "core/sku.hpp"
#include "parse_helpers.hpp"

using namespace pb;
using namespace pb::config;
using pb::test::parse;
using pb::test::what_of;

namespace {

constexpr const char* kStore = "    store: {type: csv, path: /srv/out.csv}\n";

std::string connection(const std::string& body) {
  return "connections:\n  shop:\n    warehouse: {type: csv, path: /srv/in.csv}\n" +
         std::string(kStore) + body;
}

}  // namespace

TEST_CASE("several warehouses with names and SKU filters") {
  const auto c = parse(
      "connections:\n"
      "  shop:\n"
      "    warehouses:\n"
      "      - {name: east, type: csv, path: /srv/east.csv, skus: [\"A-*\", \"B-*\"]}\n"
      "      - type: csv\n"
      "        path: /srv/west.csv\n"
      "        exclude_skus: TEST-*\n" +
      std::string(kStore));
  const auto& w = c.connections.at(0).warehouses;
  REQUIRE(w.size() == 2);
  CHECK(w[0].name == "east");
  CHECK(w[0].skus == std::vector<std::string>{"A-*", "B-*"});
  CHECK(w[1].name == "warehouse-2");
  CHECK(w[1].exclude_skus == std::vector<std::string>{"TEST-*"});
  CHECK(std::get<CsvWarehouseConfig>(w[1].connector).path == "/srv/west.csv");
  // The single form is a list of one named "warehouse".
  const auto single = parse(connection(""));
  CHECK(single.connections.at(0).warehouses.at(0).name == "warehouse");
}

TEST_CASE("warehouse list errors name the item") {
  CHECK(what_of("connections:\n"
                "  shop:\n"
                "    warehouses:\n"
                "      - {type: csv, path: /a}\n"
                "      - {type: csv, pth: /b}\n" +
                std::string(kStore)) ==
        "test.yaml:5:21: connections.shop.warehouses[1].pth: unknown key \"pth\" (did you mean "
        "\"path\"?)");
  CHECK(what_of("connections:\n"
                "  shop:\n"
                "    warehouses:\n"
                "      - {name: a, type: csv, path: /a}\n"
                "      - {name: a, type: csv, path: /b}\n" +
                std::string(kStore)) ==
        "test.yaml:5:9: connections.shop.warehouses[1].name: two warehouses are named \"a\"");
  CHECK(what_of("connections:\n"
                "  shop:\n"
                "    warehouse: {type: csv, path: /a}\n"
                "    warehouses: [{type: csv, path: /b}]\n" +
                std::string(kStore)) ==
        "test.yaml:4:17: connections.shop.warehouses: give either warehouse or warehouses, not "
        "both");
  CHECK(what_of("connections:\n  shop:\n    warehouses: []\n" + std::string(kStore)) ==
        "test.yaml:3:17: connections.shop.warehouses: the list of warehouses is empty");
  CHECK(what_of("connections:\n  shop:\n    warehouses: {type: csv}\n" + std::string(kStore)) ==
        "test.yaml:3:17: connections.shop.warehouses: expected a list of warehouses, got a map");
}

TEST_CASE("listings read inline and from a file, the inline entry wins") {
  pb::test::TempDir dir;
  {
    std::ofstream out(dir.path() / "listings.csv");
    out << "warehouse_sku,store_sku\nW-1,S-1\nW-2, S-2 \n\n# a comment\nW-3,S-3\n";
  }
  const auto c =
      parse(connection("    listings:\n"
                       "      file: " +
                       (dir.path() / "listings.csv").string() +
                       "\n"
                       "      map: {W-3: S-THREE, W-0: S-0}\n"
                       "      include: [\"S-*\"]\n"
                       "      exclude: S-0\n"));
  const auto& l = c.connections.at(0).listings;
  using Pair = std::pair<std::string, std::string>;
  CHECK(l.map ==
        std::vector<Pair>{{"W-0", "S-0"}, {"W-1", "S-1"}, {"W-2", "S-2"}, {"W-3", "S-THREE"}});
  CHECK(l.include == std::vector<std::string>{"S-*"});
  CHECK(l.exclude == std::vector<std::string>{"S-0"});
}

TEST_CASE("a bad listings file names the file and line") {
  pb::test::TempDir dir;
  const auto file = (dir.path() / "l.csv").string();
  const auto with = [&](const std::string& text) {
    std::ofstream(file) << text;
    return what_of(connection("    listings: {file: " + file + "}\n"));
  };
  const std::string where = "test.yaml:5:22: connections.shop.listings.file: " + file;
  CHECK(with("sku,store\nA,B\n") == where + " line 1: expected the header warehouse_sku,store_sku");
  CHECK(with("warehouse_sku,store_sku\nA\n") ==
        where + " line 2: expected warehouse_sku,store_sku");
  CHECK(with("warehouse_sku,store_sku\nA,\n") == where + " line 2: a SKU is empty");
  CHECK(with("warehouse_sku,store_sku\n\"A\",B\n") ==
        where + " line 2: quoted fields are not supported in a listings file");
  CHECK(what_of(connection("    listings: {file: /nonexistent/l.csv}\n")) ==
        "test.yaml:5:22: connections.shop.listings.file: cannot read listings file "
        "/nonexistent/l.csv");
  CHECK(what_of(connection("    listings: {mapping: {}}\n")) ==
        "test.yaml:5:16: connections.shop.listings.mapping: unknown key \"mapping\" (known keys: "
        "map, file, include, exclude)");
}

TEST_CASE("bundles read as store SKU and components with units") {
  const auto c =
      parse(connection("    bundles:\n"
                       "      GIFT-BOX: {TEA: 2, MUG: 1}\n"
                       "      DUO: {MUG: 2}\n"));
  const auto& b = c.connections.at(0).bundles;
  REQUIRE(b.size() == 2);
  CHECK(b[0].sku == "DUO");
  CHECK(b[1].sku == "GIFT-BOX");
  using Part = std::pair<std::string, Quantity>;
  CHECK(b[1].components == std::vector<Part>{{"MUG", 1}, {"TEA", 2}});
  CHECK(what_of(connection("    bundles:\n      BOX: {TEA: 0}\n")) ==
        "test.yaml:6:18: connections.shop.bundles.BOX.TEA: must be between 1 and 1000000, got 0");
  CHECK(what_of(connection("    bundles:\n      BOX: {}\n")) ==
        "test.yaml:6:7: connections.shop.bundles.BOX: a bundle needs at least one component: "
        "SKU: units per bundle");
}

TEST_CASE("buffer as units or a percentage, and the other inventory rules") {
  const auto units = parse(connection("    inventory: {buffer: 3, minimum_distributable: 2}\n"));
  CHECK(units.connections[0].inventory.buffer == 3);
  CHECK(units.connections[0].inventory.buffer_percent == 0);
  CHECK(units.connections[0].inventory.minimum_distributable == 2);
  CHECK(units.connections[0].inventory.repush_after == std::chrono::hours(24 * 7));
  CHECK_FALSE(units.connections[0].inventory.full_schedule.has_value());
  const auto share = parse(connection(
      "    inventory: {buffer: 15%, repush_after: 2d, full_schedule: \"Mon..Fri 01:30\"}\n"));
  CHECK(share.connections[0].inventory.buffer == 0);
  CHECK(share.connections[0].inventory.buffer_percent == 15);
  CHECK(share.connections[0].inventory.repush_after == std::chrono::hours(48));
  REQUIRE(share.connections[0].inventory.full_schedule.has_value());
  CHECK(to_string(*share.connections[0].inventory.full_schedule) == "Mon..Fri 01:30:00");
  CHECK(what_of(connection("    inventory: {buffer: 101%}\n")) ==
        "test.yaml:5:25: connections.shop.inventory.buffer: expected a percentage from 0% to "
        "100% or a number of units, got \"101%\"");
  CHECK(what_of(connection("    inventory: {buffer: -1}\n"))
            .starts_with("test.yaml:5:25: connections.shop.inventory.buffer: "));
  CHECK(what_of(connection("    inventory: {full_schedule: \"25:00\"}\n")) ==
        "test.yaml:5:32: connections.shop.inventory.full_schedule: hour must be 0-23, got 25");
}

TEST_CASE("the on_failure hook") {
  const auto c = parse(
      connection("    on_failure: {command: [/usr/local/bin/page-me, --urgent], timeout: 10s}\n"));
  const auto& hook = c.connections[0].on_failure;
  CHECK(hook.command == std::vector<std::string>{"/usr/local/bin/page-me", "--urgent"});
  CHECK(hook.timeout == std::chrono::seconds(10));
  CHECK(hook.on_partial);
  const auto split = parse(connection(
      "    on_failure: {command: /usr/bin/mail -s alert ops@example.com, partial: false}\n"));
  CHECK(split.connections[0].on_failure.command ==
        std::vector<std::string>{"/usr/bin/mail", "-s", "alert", "ops@example.com"});
  CHECK_FALSE(split.connections[0].on_failure.on_partial);
  CHECK(parse(connection("")).connections[0].on_failure.command.empty());
  CHECK(what_of(connection("    on_failure: {command: mail}\n")) ==
        "test.yaml:5:27: connections.shop.on_failure.command: the command must start with an "
        "absolute path (beed runs it without a shell)");
  CHECK(what_of(connection("    on_failure: {timeout: 5s}\n")) ==
        "test.yaml:5:17: connections.shop.on_failure: missing required key \"command\"");
}

TEST_CASE("a bundle or listing SKU the state could not keep is refused with file, line and key") {
  const std::string longest(kMaxSkuBytes, 'B');
  const std::string too_long(kMaxSkuBytes + 1, 'B');
  CHECK(parse(connection("    bundles:\n      " + longest + ": {TEA: 1}\n"))
            .connections.at(0)
            .bundles.at(0)
            .sku == longest);
  CHECK(what_of(connection("    bundles:\n      " + too_long + ": {TEA: 1}\n")) ==
        "test.yaml:6:7: connections.shop.bundles." + too_long + ": bundle SKU \"" +
            std::string(60, 'B') +
            "...\" is longer than 255 bytes (256) (at most 255 bytes of UTF-8)");
  CHECK(what_of(connection("    listings:\n      map: {W-1: " + too_long + "}\n")) ==
        "test.yaml:6:18: connections.shop.listings.map.W-1: store SKU \"" + std::string(60, 'B') +
            "...\" is longer than 255 bytes (256) (at most 255 bytes of UTF-8)");
  CHECK(what_of(connection("    listings:\n      map: {W-1: caf\xE9}\n")) ==
        "test.yaml:6:18: connections.shop.listings.map.W-1: store SKU \"caf\\xE9\" is not valid "
        "UTF-8 (at most 255 bytes of UTF-8)");

  pb::test::TempDir dir;
  {
    std::ofstream out(dir.path() / "listings.csv");
    out << "warehouse_sku,store_sku\nW-1," << too_long << "\n";
  }
  CHECK(
      what_of(connection("    listings:\n      file: " + (dir.path() / "listings.csv").string() +
                         "\n")) ==
      "test.yaml:6:13: connections.shop.listings.file: " + (dir.path() / "listings.csv").string() +
          " line 2: store SKU \"" + std::string(60, 'B') +
          "...\" is longer than 255 bytes (256) (at most 255 bytes of UTF-8)");
}
