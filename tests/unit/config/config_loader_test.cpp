#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <variant>

#include "config/config_loader.hpp"
#include "core/utf8.hpp"

using namespace pb;
using namespace pb::config;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

Config parse(std::string_view yaml) {
  return parse_config(yaml, "test.yaml", "/etc/packagebee");
}

// The error parsing `yaml` raises; fails the test if it parses.
ConfigError error_of(std::string_view yaml) {
  try {
    parse(yaml);
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("expected a ConfigError for:\n" << yaml);
  return ConfigError("", 0, 0, "", "");
}

std::string what_of(std::string_view yaml) {
  return error_of(yaml).what();
}

const CsvWarehouseConfig& csv_warehouse(const ConnectionConfig& c) {
  REQUIRE(std::holds_alternative<CsvWarehouseConfig>(c.warehouses.at(0).connector));
  return std::get<CsvWarehouseConfig>(c.warehouses.at(0).connector);
}

const CsvStoreConfig& csv_store(const ConnectionConfig& c) {
  REQUIRE(std::holds_alternative<CsvStoreConfig>(c.store));
  return std::get<CsvStoreConfig>(c.store);
}

// A valid connection `shop` (lines 1-4) to which a test appends lines.
constexpr std::string_view kShop =
    "connections:\n"
    "  shop:\n"
    "    warehouse: {type: csv, path: /srv/feeds/shop}\n"
    "    store: {type: csv, path: /srv/out/shop.csv}\n";

std::string shop_with(std::string_view more) {
  return std::string(kShop) + std::string(more);
}

// A scratch directory removed at the end of the test.
struct TempDir {
  fs::path path =
      fs::temp_directory_path() / ("pb-config-test-" + std::to_string(::getpid()) + "-" +
                                   std::to_string(reinterpret_cast<std::uintptr_t>(this)));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  fs::path write(const std::string& name, std::string_view text) const {
    std::ofstream(path / name) << text;
    return path / name;
  }
};

}  // namespace

TEST_CASE("the documented example parses to exact values") {
  const Config c = parse(
      "daemon: {socket: /run/packagebee/beed.sock, state_dir: /var/lib/packagebee, log_level: "
      "info, max_concurrent_syncs: 4}\n"
      "connections:\n"
      "  acme-shop:\n"
      "    warehouse: {type: csv, path: /srv/feeds/acme, pattern: \"inv_*.csv\", sku_column: sku, "
      "quantity_column: quantity, delimiter: \",\", duplicates: error}\n"
      "    store: {type: csv, path: /var/lib/packagebee/out/acme-shop.csv}\n"
      "    inventory: {schedule: 60m, automatic: smart, missing_skus: keep, buffer: 0}\n");
  CHECK(c.source == "test.yaml");
  CHECK(c.daemon.socket == "/run/packagebee/beed.sock");
  CHECK(c.daemon.state_dir == "/var/lib/packagebee");
  CHECK(c.daemon.log_level == "info");
  CHECK(c.daemon.max_concurrent_syncs == 4);
  REQUIRE(c.connections.size() == 1);
  const ConnectionConfig& acme = c.connections[0];
  CHECK(acme.name == "acme-shop");
  const CsvWarehouseConfig& w = csv_warehouse(acme);
  CHECK(w.path == "/srv/feeds/acme");
  CHECK(w.pattern == "inv_*.csv");
  CHECK(w.sku_column == "sku");
  CHECK(w.quantity_column == "quantity");
  CHECK(w.delimiter == ',');
  CHECK(w.duplicates == DuplicatePolicy::error);
  CHECK(csv_store(acme).path == "/var/lib/packagebee/out/acme-shop.csv");
  CHECK(acme.inventory.schedule == 60min);
  CHECK(acme.inventory.automatic == SyncKind::smart);
  CHECK(acme.inventory.missing_skus == MissingSkus::keep);
  CHECK(acme.inventory.buffer == 0);
}

TEST_CASE("values other than the defaults are read, connections stay in file order") {
  const Config c = parse(
      "daemon:\n"
      "  log_level: debug\n"
      "  max_concurrent_syncs: 64\n"
      "connections:\n"
      "  zeta:\n"
      "    warehouse:\n"
      "      type: csv\n"
      "      path: /srv/z.tsv\n"
      "      sku_column: SKU\n"
      "      quantity_column: Qty\n"
      "      delimiter: \"\\t\"\n"
      "      duplicates: sum\n"
      "    store: {type: csv, path: /srv/z-out.csv}\n"
      "    inventory: {schedule: 30s, automatic: full, missing_skus: zero, buffer: 2}\n"
      "  alpha:\n"
      "    warehouse: {type: csv, path: /srv/a.csv, delimiter: ;}\n"
      "    store: {type: csv, path: /srv/a-out.csv}\n"
      "    inventory: {schedule: 7d}\n");
  CHECK(c.daemon.log_level == "debug");
  CHECK(c.daemon.max_concurrent_syncs == 64);
  REQUIRE(c.connections.size() == 2);
  CHECK(c.connections[0].name == "zeta");
  CHECK(c.connections[1].name == "alpha");
  const CsvWarehouseConfig& z = csv_warehouse(c.connections[0]);
  CHECK(z.sku_column == "SKU");
  CHECK(z.quantity_column == "Qty");
  CHECK(z.delimiter == '\t');
  CHECK(z.duplicates == DuplicatePolicy::sum);
  CHECK(c.connections[0].inventory.schedule == 30s);
  CHECK(c.connections[0].inventory.automatic == SyncKind::full);
  CHECK(c.connections[0].inventory.missing_skus == MissingSkus::zero);
  CHECK(c.connections[0].inventory.buffer == 2);
  CHECK(csv_warehouse(c.connections[1]).delimiter == ';');
  CHECK(c.connections[1].inventory.schedule == std::chrono::hours(24 * 7));
}

TEST_CASE("absent keys and sections take the documented defaults") {
  const Config c = parse(kShop);
  const DaemonConfig d;
  CHECK(c.daemon.socket == d.socket);
  CHECK(c.daemon.state_dir == d.state_dir);
  CHECK(c.daemon.log_level == d.log_level);
  CHECK(c.daemon.max_concurrent_syncs == d.max_concurrent_syncs);
  CHECK(c.daemon.socket == "/run/packagebee/beed.sock");
  CHECK(c.daemon.max_concurrent_syncs == 4);

  REQUIRE(c.connections.size() == 1);
  const CsvWarehouseConfig& w = csv_warehouse(c.connections[0]);
  const CsvWarehouseConfig wd;
  CHECK(w.pattern == wd.pattern);
  CHECK(w.pattern == "*.csv");
  CHECK(w.sku_column == wd.sku_column);
  CHECK(w.quantity_column == wd.quantity_column);
  CHECK(w.delimiter == wd.delimiter);
  CHECK(w.duplicates == wd.duplicates);

  const InventoryConfig& i = c.connections[0].inventory;
  const InventoryConfig id;
  CHECK(i.schedule == id.schedule);
  CHECK(i.schedule == 1h);
  CHECK(i.automatic == id.automatic);
  CHECK(i.missing_skus == id.missing_skus);
  CHECK(i.buffer == id.buffer);

  // Empty sections are as good as absent ones.
  const Config empty = parse(shop_with("    inventory:\ndaemon:\n"));
  CHECK(empty.connections[0].inventory.schedule == 1h);
  CHECK(empty.daemon.log_level == "info");
}

TEST_CASE("zero connections is a valid configuration") {
  CHECK(parse("daemon: {log_level: off}\n").connections.empty());
  CHECK(parse("connections: {}\n").connections.empty());
  CHECK(parse("connections:\n").connections.empty());
}

TEST_CASE("every documented choice is accepted") {
  for (const char* level : {"trace", "debug", "info", "warning", "error", "critical", "off"})
    CHECK(parse(std::string("daemon: {log_level: ") + level + "}\n").daemon.log_level == level);
  for (const char* kind : {"full", "smart"})
    CHECK(to_string(parse(shop_with(std::string("    inventory: {automatic: ") + kind + "}\n"))
                        .connections[0]
                        .inventory.automatic) == kind);
  for (const char* m : {"keep", "zero"})
    CHECK(to_string(parse(shop_with(std::string("    inventory: {missing_skus: ") + m + "}\n"))
                        .connections[0]
                        .inventory.missing_skus) == m);
}

TEST_CASE("Config::find looks connections up by name") {
  const Config c = parse(kShop);
  REQUIRE(c.find("shop") != nullptr);
  CHECK(c.find("shop") == &c.connections[0]);
  CHECK(c.find("sho") == nullptr);
  CHECK(c.find("") == nullptr);
}

TEST_CASE("relative paths are resolved against the file's directory") {
  const Config c = parse(
      "daemon: {socket: ../run/beed.sock, state_dir: state}\n"
      "connections:\n"
      "  shop:\n"
      "    warehouse: {type: csv, path: ./feeds//acme/../shop}\n"
      "    store: {type: csv, path: /srv/./out/shop.csv}\n");
  CHECK(c.daemon.socket == "/etc/run/beed.sock");
  CHECK(c.daemon.state_dir == "/etc/packagebee/state");
  CHECK(csv_warehouse(c.connections[0]).path == "/etc/packagebee/feeds/shop");
  CHECK(csv_store(c.connections[0]).path == "/srv/out/shop.csv");
}

TEST_CASE("load_config_file reads a file and resolves paths next to it") {
  const TempDir dir;
  const fs::path file = dir.write("packagebee.yaml",
                                  "daemon: {state_dir: state, socket: beed.sock}\n"
                                  "connections:\n"
                                  "  demo:\n"
                                  "    warehouse: {type: csv, path: feeds}\n"
                                  "    store: {type: csv, path: out/demo.csv}\n");
  const Config c = load_config_file(file);
  CHECK(c.source == file);
  CHECK(c.daemon.state_dir == dir.path / "state");
  CHECK(c.daemon.socket == dir.path / "beed.sock");
  CHECK(csv_warehouse(c.connections.at(0)).path == dir.path / "feeds");
  CHECK(csv_store(c.connections.at(0)).path == dir.path / "out/demo.csv");

  // Errors name the file as given.
  const fs::path bad = dir.write("bad.yaml", "daemon:\n  log_level: loud\n");
  try {
    load_config_file(bad);
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) ==
          bad.string() +
              ":2:14: daemon.log_level: expected one of trace, debug, info, warning, error, "
              "critical, off, got \"loud\"");
  }
}

TEST_CASE("a file that cannot be read is an error without a line") {
  const TempDir dir;
  const std::string missing = (dir.path / "nope.yaml").string();
  try {
    load_config_file(missing);
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) == missing + ": No such file or directory");
    CHECK(e.file() == missing);
    CHECK(e.line() == 0);
    CHECK(e.key_path().empty());
    CHECK(e.message() == "No such file or directory");
  }
  try {
    load_config_file(dir.path);
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) == dir.path.string() + ": Is a directory");
  }
}

TEST_CASE("an error carries its parts as well as the formatted text") {
  const ConfigError e = error_of(
      "connections:\n"
      "  acme-shop:\n"
      "    warehouse: {type: csv, path: /srv/feeds/acme}\n"
      "    store: {type: csv, path: /srv/out/acme.csv}\n"
      "    inventory:\n"
      "      schedule: soon\n");
  CHECK(std::string(e.what()) ==
        "test.yaml:6:17: connections.acme-shop.inventory.schedule: expected a duration like 60m "
        "or 1h, got \"soon\"");
  CHECK(e.file() == "test.yaml");
  CHECK(e.line() == 6);
  CHECK(e.column() == 17);
  CHECK(e.key_path() == "connections.acme-shop.inventory.schedule");
  CHECK(e.message() == "expected a duration like 60m or 1h, got \"soon\"");
}

TEST_CASE("durations need a unit and stay within 1s..7d") {
  CHECK(what_of(shop_with("    inventory: {schedule: 60}\n")) ==
        "test.yaml:5:27: connections.shop.inventory.schedule: expected a duration like 60m or 1h, "
        "got \"60\" (add a unit: s, m, h or d)");
  CHECK(what_of(shop_with("    inventory: {schedule: 0s}\n")) ==
        "test.yaml:5:27: connections.shop.inventory.schedule: must be between 1s and 7d, got 0s");
  CHECK(what_of(shop_with("    inventory: {schedule: 169h}\n")) ==
        "test.yaml:5:27: connections.shop.inventory.schedule: must be between 1s and 7d, got 169h");
  CHECK(what_of(shop_with("    inventory: {schedule: 99999999999999999999d}\n")) ==
        "test.yaml:5:27: connections.shop.inventory.schedule: must be between 1s and 7d, got "
        "99999999999999999999d");
  for (const char* bad : {"1.5h", "-1m", "1w", "h", "1 h", "1h30m", "+5m"})
    CHECK(error_of(shop_with(std::string("    inventory: {schedule: \"") + bad + "\"}\n"))
              .message() == std::string("expected a duration like 60m or 1h, got \"") + bad + "\"");
  CHECK(parse(shop_with("    inventory: {schedule: 168h}\n")).connections[0].inventory.schedule ==
        168h);
  CHECK(parse(shop_with("    inventory: {schedule: 1s}\n")).connections[0].inventory.schedule ==
        1s);
}

TEST_CASE("integers must be plain integers within range") {
  CHECK(what_of("daemon: {max_concurrent_syncs: 1.5}\n") ==
        "test.yaml:1:32: daemon.max_concurrent_syncs: expected an integer, got \"1.5\"");
  CHECK(what_of("daemon:\n  max_concurrent_syncs: abc\n") ==
        "test.yaml:2:25: daemon.max_concurrent_syncs: expected an integer, got \"abc\"");
  CHECK(what_of("daemon: {max_concurrent_syncs: 65}\n") ==
        "test.yaml:1:32: daemon.max_concurrent_syncs: must be between 1 and 64, got 65");
  CHECK(what_of("daemon: {max_concurrent_syncs: 0}\n") ==
        "test.yaml:1:32: daemon.max_concurrent_syncs: must be between 1 and 64, got 0");
  CHECK(what_of("daemon: {max_concurrent_syncs: 99999999999999999999}\n") ==
        "test.yaml:1:32: daemon.max_concurrent_syncs: must be between 1 and 64, got "
        "99999999999999999999");
  CHECK(what_of("daemon: {max_concurrent_syncs: \"4\"}\n") ==
        "test.yaml:1:32: daemon.max_concurrent_syncs: expected an integer, got \"4\" (quoted, so "
        "a string: remove the quotes)");
  CHECK(error_of("daemon: {max_concurrent_syncs: 0x10}\n").message() ==
        "expected an integer, got \"0x10\"");
  CHECK(error_of("daemon: {max_concurrent_syncs: [4]}\n").message() ==
        "expected an integer, got a list");
  CHECK(what_of(shop_with("    inventory: {buffer: -1}\n")) ==
        "test.yaml:5:25: connections.shop.inventory.buffer: must be at least 0, got -1");
  CHECK(error_of(shop_with("    inventory: {buffer: 9223372036854775808}\n")).message() ==
        "must be at least 0, got 9223372036854775808");
  CHECK(parse(shop_with("    inventory: {buffer: 9223372036854775807}\n"))
            .connections[0]
            .inventory.buffer == INT64_MAX);
}

TEST_CASE("choices must be one of the listed names") {
  CHECK(what_of("daemon: {log_level: verbose}\n") ==
        "test.yaml:1:21: daemon.log_level: expected one of trace, debug, info, warning, error, "
        "critical, off, got \"verbose\"");
  CHECK(what_of(shop_with("    inventory: {automatic: Full}\n")) ==
        "test.yaml:5:28: connections.shop.inventory.automatic: expected one of full, smart, got "
        "\"Full\"");
  CHECK(what_of("connections:\n"
                "  shop:\n"
                "    warehouse: {type: csv, path: /f, duplicates: max}\n"
                "    store: {type: csv, path: /o}\n") ==
        "test.yaml:3:50: connections.shop.warehouse.duplicates: expected one of error, sum, got "
        "\"max\"");
}

TEST_CASE("a delimiter is exactly one usable character") {
  const auto delimiter_error = [](std::string_view value) {
    return what_of(
        "connections:\n"
        "  shop:\n"
        "    warehouse:\n"
        "      type: csv\n"
        "      path: /f\n"
        "      delimiter: " +
        std::string(value) +
        "\n"
        "    store: {type: csv, path: /o}\n");
  };
  CHECK(delimiter_error("ab") ==
        "test.yaml:6:18: connections.shop.warehouse.delimiter: expected a single character, got "
        "\"ab\"");
  CHECK(delimiter_error("\\t") ==
        "test.yaml:6:18: connections.shop.warehouse.delimiter: expected a single character, got "
        "\"\\\\t\" (write a tab as \"\\t\", in double quotes)");
  CHECK(delimiter_error("'\"'") ==
        "test.yaml:6:18: connections.shop.warehouse.delimiter: \"\\\"\" cannot be used here");
  CHECK(delimiter_error("\"\\n\"") ==
        "test.yaml:6:18: connections.shop.warehouse.delimiter: \"\\n\" cannot be used here");
  CHECK(delimiter_error("\"\"") ==
        "test.yaml:6:18: connections.shop.warehouse.delimiter: expected a single character, got "
        "\"\"");
}

TEST_CASE("unknown keys are errors pointing at the key") {
  CHECK(what_of("daemon:\n  colour: blue\n") ==
        "test.yaml:2:3: daemon.colour: unknown key \"colour\" (known keys: socket, state_dir, "
        "log_level, max_concurrent_syncs, socket_group, admin_group, http)");
  CHECK(what_of("daemon: {log_levle: info}\n") ==
        "test.yaml:1:10: daemon.log_levle: unknown key \"log_levle\" (did you mean "
        "\"log_level\"?)");
  CHECK(what_of("connection:\n  shop: {}\n") ==
        "test.yaml:1:1: connection: unknown key \"connection\" (did you mean \"connections\"?)");
  CHECK(what_of(shop_with("    inventroy: {}\n")) ==
        "test.yaml:5:5: connections.shop.inventroy: unknown key \"inventroy\" (did you mean "
        "\"inventory\"?)");
  // Keys of the csv store are not keys of the csv warehouse.
  CHECK(what_of("connections:\n"
                "  shop:\n"
                "    warehouse: {type: csv, path: /f}\n"
                "    store: {type: csv, path: /o, pattern: \"*.csv\"}\n") ==
        "test.yaml:4:34: connections.shop.store.pattern: unknown key \"pattern\" (known keys: "
        "type, path, catalogue_refresh)");
}

TEST_CASE("the type key selects a connector and unknown types are listed") {
  CHECK(what_of("connections:\n"
                "  shop:\n"
                "    warehouse: {type: shopify, path: /f}\n"
                "    store: {type: csv, path: /o}\n") ==
        "test.yaml:3:23: connections.shop.warehouse.type: unknown warehouse type \"shopify\" "
        "(known types: csv, postgres, http-json)");
  CHECK(what_of("connections:\n"
                "  shop:\n"
                "    warehouse: {type: csv, path: /f}\n"
                "    store: {path: /o}\n") ==
        "test.yaml:4:12: connections.shop.store.type: missing required key \"type\" (known types: "
        "csv, shopify, woocommerce, bigcommerce, magento, medusa, vendure)");
  CHECK(what_of("connections:\n"
                "  shop:\n"
                "    warehouse: {type: [csv], path: /f}\n"
                "    store: {type: csv, path: /o}\n") ==
        "test.yaml:3:23: connections.shop.warehouse.type: expected a warehouse type, got a list "
        "(known types: csv, postgres, http-json)");
}

TEST_CASE("missing required keys point at the map that lacks them") {
  CHECK(what_of("connections:\n"
                "  shop:\n"
                "    warehouse: {type: csv, path: /f}\n"
                "    store: {type: csv}\n") ==
        "test.yaml:4:12: connections.shop.store.path: missing required key \"path\" (the "
        "sku,quantity file the store imports; rewritten atomically)");
  CHECK(what_of("connections:\n"
                "  shop:\n"
                "    inventory: {buffer: 1}\n"
                "    warehouse: {type: csv, path: /f}\n") ==
        "test.yaml:3:5: connections.shop.store: missing required key \"store\" (where stock "
        "levels are pushed)");
  // An empty value has no position of its own: the key is what the reader sees.
  CHECK(what_of("connections:\n"
                "  shop:\n"
                "    warehouse:\n"
                "    store: {type: csv, path: /o}\n") ==
        "test.yaml:3:5: connections.shop.warehouse.type: missing required key \"type\" (known "
        "types: csv, postgres, http-json)");
  CHECK(what_of("connections:\n"
                "  shop:\n"
                "    warehouse: {type: csv, path: }\n"
                "    store: {type: csv, path: /o}\n") ==
        "test.yaml:3:28: connections.shop.warehouse.path: missing value: expected a path");
  CHECK(what_of("connections:\n"
                "  shop:\n") ==
        "test.yaml:2:3: connections.shop.warehouse: missing required key \"warehouse\" (where "
        "stock levels are read; or \"warehouses\", a list)");
}

TEST_CASE("duplicate connection names and keys are errors at the second one") {
  CHECK(what_of(shop_with("  other:\n"
                          "    warehouse: {type: csv, path: /f}\n"
                          "    store: {type: csv, path: /o}\n"
                          "  shop:\n"
                          "    warehouse: {type: csv, path: /g}\n"
                          "    store: {type: csv, path: /p}\n")) ==
        "test.yaml:8:3: connections.shop: duplicate connection name \"shop\" (first at line 2)");
  CHECK(what_of("daemon:\n  log_level: info\n  socket: /s\n  log_level: debug\n") ==
        "test.yaml:4:3: daemon.log_level: duplicate key \"log_level\" (first at line 2)");
  CHECK(what_of("daemon: {}\ndaemon: {}\n") ==
        "test.yaml:2:1: daemon: duplicate key \"daemon\" (first at line 1)");
}

TEST_CASE("connection names are checked") {
  CHECK(what_of("connections:\n"
                "  \"bad name\":\n"
                "    warehouse: {type: csv, path: /f}\n"
                "    store: {type: csv, path: /o}\n") ==
        "test.yaml:2:3: connections.bad name: invalid connection name: use 1-64 of A-Z a-z 0-9 _ "
        ". -, starting with a letter or digit");
  CHECK(error_of("connections:\n  -lead: {}\n").key_path() == "connections.-lead");
}

TEST_CASE("two connections cannot write the same store file") {
  CHECK(what_of(shop_with("  copy:\n"
                          "    warehouse: {type: csv, path: /srv/feeds/copy}\n"
                          "    store: {type: csv, path: ../../srv/out/./shop.csv}\n")) ==
        "test.yaml:7:30: connections.copy.store.path: connections \"shop\" and \"copy\" both "
        "write /srv/out/shop.csv");
}

TEST_CASE("sections must be maps") {
  CHECK(what_of(shop_with("    inventory: 5\n")) ==
        "test.yaml:5:16: connections.shop.inventory: expected a map of keys, got \"5\"");
  CHECK(what_of("connections: [a, b]\n") ==
        "test.yaml:1:14: connections: expected a map of connection names, got a list");
  CHECK(what_of("daemon:\n  ? [a]\n  : 1\n") ==
        "test.yaml:2:5: daemon: expected a key, got a list");
}

TEST_CASE("the file must hold one map") {
  for (const char* empty : {"", "\n\n", "# just a comment\n", "---\n", "~\n"}) {
    const ConfigError e = error_of(empty);
    CHECK(std::string(e.what()) ==
          "test.yaml: the file is empty; expected a map with the keys daemon and connections");
    CHECK(e.line() == 0);
  }
  CHECK(what_of("- daemon\n- connections\n") ==
        "test.yaml:1:1: expected a map with the keys daemon and connections at the top level, got "
        "a list");
  CHECK(what_of("hello\n") ==
        "test.yaml:1:1: expected a map with the keys daemon and connections at the top level, got "
        "\"hello\"");
  CHECK(what_of("daemon: {}\n---\ndaemon: {}\n") ==
        "test.yaml:3:1: a second YAML document; only one is allowed");
}

TEST_CASE("YAML syntax errors carry the parser's position") {
  const ConfigError e = error_of("daemon:\n  socket: [/run/x\n");
  CHECK(std::string(e.what()) == "test.yaml:3:1: end of sequence flow not found");
  CHECK(e.line() == 3);
  CHECK(e.column() == 1);
  CHECK(e.key_path().empty());
  CHECK(error_of("daemon: {log_level: *nothing}\n").line() == 1);
  CHECK(error_of("daemon:\n  a: 1\n b: 2\n").line() == 3);
}

TEST_CASE("the socket and admin groups are optional names") {
  const auto cfg =
      parse_config("daemon: {socket_group: packagebee, admin_group: wheel}\n", "test.yaml", "/etc");
  CHECK(cfg.daemon.socket_group == "packagebee");
  CHECK(cfg.daemon.admin_group == "wheel");
  const auto defaults = parse_config("daemon: {}\n", "test.yaml", "/etc");
  CHECK(defaults.daemon.socket_group.empty());
  CHECK(defaults.daemon.admin_group.empty());
}

TEST_CASE("inputs that made yaml-cpp's LoadAll loop for ever get an answer") {
  // Found by tests/fuzz/fuzz_config (yaml-cpp 0.7, issue 1040).
  for (const char* text : {",", ",onnections1\n  shcoo"})
    CHECK(what_of(text) ==
          "test.yaml: the file is empty; expected a map with the keys daemon and connections");
}

TEST_CASE("errors quoting bytes of the file that are not UTF-8 escape them") {
  // A binary file given as the configuration: the message reaches beectl as JSON.
  const std::string png("\x89PNG\r\n\x1A\n\0\0\0\rIHDR\xFF\xD8\xFF\xE0", 20);
  const std::string binary = what_of(png);
  CAPTURE(binary);
  CHECK(pb::utf8::is_valid(binary));
  CHECK(pb::utf8::escape_invalid(binary) == binary);
  // A Latin-1 value and key: escaped, UTF-8 shown as it is.
  CHECK(what_of("daemon: {log_level: d\xE9"
                "bug}\n") ==
        "test.yaml:1:21: daemon.log_level: expected one of trace, debug, info, warning, error, "
        "critical, off, got \"d\\xE9bug\"");
  CHECK(what_of("daemon: {caf\xC3\xA9: 1}\n")
            .starts_with("test.yaml:1:10: daemon.caf\xC3\xA9: unknown key \"caf\xC3\xA9\" (known"));
  const std::string latin_key = what_of("daemon: {caf\xE9: 1}\n");
  CHECK(latin_key.starts_with("test.yaml:1:10: daemon.caf\\xE9: unknown key \"caf\\xE9\""));
}
