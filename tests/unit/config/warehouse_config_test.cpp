// The `type: postgres` warehouse section: defaults, every key, and the conninfo checks (libpq's
// own parser; no password in it), with errors that name the file, line and key.
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

constexpr std::string_view kMinimal =
    "      type: postgres\n"
    "      conninfo: host=db.example.com dbname=wms user=packagebee\n"
    "      query: SELECT sku, quantity FROM stock_view\n";

const PostgresWarehouseConfig& postgres_of(const Config& c) {
  REQUIRE(c.connections.size() == 1);
  REQUIRE(
      std::holds_alternative<PostgresWarehouseConfig>(c.connections[0].warehouses.at(0).connector));
  return std::get<PostgresWarehouseConfig>(c.connections[0].warehouses.at(0).connector);
}

std::string conninfo_error(std::string_view conninfo) {
  return what_of(
      with_warehouse("      type: postgres\n"
                     "      conninfo: " +
                     std::string(conninfo) +
                     "\n"
                     "      query: SELECT sku, quantity FROM stock\n"));
}

}  // namespace

TEST_CASE("postgres warehouse: defaults") {
  const auto c = parse(with_warehouse(kMinimal));
  const auto& w = postgres_of(c);
  CHECK(w.conninfo == "host=db.example.com dbname=wms user=packagebee");
  CHECK(w.query == "SELECT sku, quantity FROM stock_view");
  CHECK(w.password_file.empty());
  CHECK(w.sku_column == "sku");
  CHECK(w.quantity_column == "quantity");
  CHECK(w.connect_timeout == 10s);
  CHECK(w.statement_timeout == 5min);
  CHECK(w.duplicates == DuplicatePolicy::error);
  const PostgresWarehouseConfig defaults;
  CHECK(w.connect_timeout == defaults.connect_timeout);
  CHECK(w.statement_timeout == defaults.statement_timeout);
}

TEST_CASE("postgres warehouse: every key") {
  const auto c = parse(with_warehouse(
      "      type: postgres\n"
      "      conninfo: \"postgresql://packagebee@db.example.com:5433/wms?sslmode=verify-full\"\n"
      "      password_file: secrets/wms-password\n"
      "      query: |\n"
      "        SELECT item_code AS \"SKU\", actual_qty AS qty\n"
      "        FROM \"tabBin\" WHERE warehouse = 'Main'\n"
      "      sku_column: SKU\n"
      "      quantity_column: qty\n"
      "      connect_timeout: 30s\n"
      "      statement_timeout: 1h\n"
      "      duplicates: sum\n"));
  const auto& w = postgres_of(c);
  CHECK(w.conninfo == "postgresql://packagebee@db.example.com:5433/wms?sslmode=verify-full");
  CHECK(w.password_file == "/etc/packagebee/secrets/wms-password");
  CHECK(w.query ==
        "SELECT item_code AS \"SKU\", actual_qty AS qty\nFROM \"tabBin\" WHERE warehouse = "
        "'Main'\n");
  CHECK(w.sku_column == "SKU");
  CHECK(w.quantity_column == "qty");
  CHECK(w.connect_timeout == 30s);
  CHECK(w.statement_timeout == 1h);
  CHECK(w.duplicates == DuplicatePolicy::sum);

  const auto credential =
      parse(with_warehouse(std::string(kMinimal) + "      password_file: "
                                                   "$CREDENTIALS_DIRECTORY/wms-password\n"));
  CHECK(postgres_of(credential).password_file == "$CREDENTIALS_DIRECTORY/wms-password");
}

TEST_CASE("postgres warehouse: required keys and ranges") {
  CHECK(what_of(with_warehouse("      type: postgres\n"
                               "      conninfo: dbname=wms\n")) ==
        "test.yaml:4:7: connections.shop.warehouse.query: missing required key \"query\" (one "
        "SELECT returning a SKU and a quantity column, run in a read-only transaction)");
  CHECK(what_of(with_warehouse("      type: postgres\n"
                               "      query: SELECT 1\n")) ==
        "test.yaml:4:7: connections.shop.warehouse.conninfo: missing required key \"conninfo\" (a "
        "libpq connection string or URI, without the password)");
  CHECK(what_of(with_warehouse(std::string(kMinimal) + "      connect_timeout: 0s\n")) ==
        "test.yaml:7:24: connections.shop.warehouse.connect_timeout: must be between 1s and 1h, "
        "got 0s");
  CHECK(what_of(with_warehouse(std::string(kMinimal) + "      statement_timeout: 2d\n")) ==
        "test.yaml:7:26: connections.shop.warehouse.statement_timeout: must be between 1s and 1d, "
        "got 2d");
  CHECK(what_of(with_warehouse(std::string(kMinimal) + "      duplicates: max\n")) ==
        "test.yaml:7:19: connections.shop.warehouse.duplicates: expected one of error, sum, got "
        "\"max\"");
  CHECK(what_of(with_warehouse(std::string(kMinimal) + "      path: /srv/feeds\n")) ==
        "test.yaml:7:7: connections.shop.warehouse.path: unknown key \"path\" (known keys: type, "
        "conninfo, password_file, query, sku_column, quantity_column, connect_timeout, "
        "statement_timeout, duplicates, location_column, locations, cursor_column, name, skus, "
        "exclude_skus)");
}

TEST_CASE("postgres warehouse: a password in the conninfo is refused, pointing at password_file") {
  const std::string where = "test.yaml:5:17: connections.shop.warehouse.conninfo: ";
  const std::string refused =
      "must not hold a password: the connection string appears in logs and beectl output; put "
      "the password in a file and name it in password_file";
  CHECK(conninfo_error("\"host=db dbname=wms password=hunter2\"") == where + refused);
  CHECK(conninfo_error("\"host=db password = 'hunter 2' dbname=wms\"") == where + refused);
  CHECK(conninfo_error("\"postgresql://packagebee:hunter2@db/wms\"") == where + refused);
  CHECK(conninfo_error("\"postgres://db/wms?password=hunter2\"") == where + refused);
  CHECK(conninfo_error("\"host=db sslpassword=hunter2\"") ==
        where +
            "must not hold sslpassword: the connection string appears in logs and beectl output; "
            "use a client key without a passphrase, readable only by beed's user");
  // A string libpq cannot parse may still hold one: libpq's message, which may quote the text,
  // is withheld then.
  const std::string bad = conninfo_error("\"host=db password='hunter2\"");
  CHECK(bad == where +
                   "not a valid libpq connection string (libpq's message is withheld because the "
                   "string may hold a password; put the password in password_file)");
  CHECK(bad.find("hunter2") == std::string::npos);
}

TEST_CASE("postgres warehouse: libpq's parser checks the conninfo") {
  const std::string where = "test.yaml:5:17: connections.shop.warehouse.conninfo: ";
  CHECK(conninfo_error("\"hots=db dbname=wms\"") ==
        where + "not a valid libpq connection string: invalid connection option \"hots\"");
  CHECK(conninfo_error("wms") ==
        where +
            "not a valid libpq connection string: missing \"=\" after \"wms\" in connection "
            "info string");
  // passfile names a file, it is not a secret itself.
  CHECK_NOTHROW(
      parse(with_warehouse("      type: postgres\n"
                           "      conninfo: host=/run/postgresql passfile=/etc/pgpass\n"
                           "      query: TABLE stock\n")));
}

TEST_CASE("postgres warehouse: cursor_column and the query's $1 go together") {
  const std::string incremental =
      "      type: postgres\n"
      "      conninfo: host=db dbname=wms\n"
      "      query: SELECT sku, qty AS quantity, modified FROM bin WHERE $1::timestamptz IS "
      "NULL OR modified >= $1::timestamptz\n";
  const auto c = parse(with_warehouse(incremental + "      cursor_column: modified\n"));
  CHECK(postgres_of(c).cursor_column == "modified");
  CHECK(what_of(with_warehouse(incremental)) ==
        "test.yaml:6:14: connections.shop.warehouse.query: the query takes $1 but no "
        "cursor_column says where the cursor is");
  CHECK(what_of(with_warehouse(std::string(kMinimal) + "      cursor_column: modified\n")) ==
        "test.yaml:7:22: connections.shop.warehouse.cursor_column: cursor_column needs a query "
        "that takes the last cursor as $1, e.g. WHERE $1 IS NULL OR modified >= $1::timestamptz");
  CHECK(what_of(
            with_warehouse(incremental + "      cursor_column: modified\n      duplicates: sum\n"))
            .find("cursor_column cannot be combined with duplicates: sum") != std::string::npos);
  CHECK(what_of(with_warehouse(incremental +
                               "      cursor_column: modified\n      location_column: bin\n"))
            .find("cursor_column cannot be combined with location_column") != std::string::npos);
}
