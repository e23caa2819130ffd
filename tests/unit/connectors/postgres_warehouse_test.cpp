// The `type: postgres` warehouse without a server: the row rules (text values as libpq gives
// them, NULLs, duplicates), libpq message cleaning, and the errors of a read that cannot connect.
// tests/integration/test_warehouse_postgres.py runs it against a real PostgreSQL.
#include <doctest/doctest.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/warehouse/postgres/postgres_reader.hpp"
#include "connectors/warehouse/postgres/postgres_rows.hpp"
#include "connectors/warehouse/postgres/postgres_warehouse.hpp"
#include "test_support.hpp"

using namespace pb;
using namespace pb::connectors;

using pb::test::dump;

namespace {

using Value = std::optional<std::string_view>;
struct Row {
  Value sku;
  Value quantity;
};

Feed build(const std::vector<Row>& rows, QuantityText text = QuantityText::integer,
           DuplicatePolicy duplicates = DuplicatePolicy::error) {
  PostgresFeedBuilder builder("postgres dbname=wms", duplicates, text);
  std::uint64_t n = 0;
  for (const auto& row : rows) builder.add(++n, row.sku, row.quantity);
  return builder.finish();
}

}  // namespace

TEST_CASE("postgres rows: sorted by SKU, trimmed, signed integers") {
  const Feed feed = build({{"B", "10"}, {"A  ", "7"}, {" C\t", "-3"}, {"D", "+4"}, {"E", " 0 "}});
  CHECK(feed.origin == "postgres dbname=wms");
  CHECK(dump(feed) == "A=7@2;B=10@1;C=-3@3;D=4@4;E=0@5;\n");
}

TEST_CASE("postgres rows: NULL is never zero, and a bad row holds its SKU") {
  const Feed feed = build({{"A", "7"},
                           {"B", std::nullopt},
                           {std::nullopt, "5"},
                           {"   ", "5"},
                           {"C", "12.5"},
                           {"D", "lots"},
                           {"E", ""},
                           {"F", "99999999999999999999"},
                           {"G", "1"}});
  CHECK(dump(feed) ==
        "A=7@1;G=1@9;\n"
        "2|B|SKU 'B': quantity is NULL (NULL is not zero)\n"
        "3||SKU is NULL\n"
        "4||no SKU (blank)\n"
        "5|C|SKU 'C': quantity '12.5' is not an integer\n"
        "6|D|SKU 'D': quantity 'lots' is not an integer\n"
        "7|E|SKU 'E': blank quantity (blank is not zero)\n"
        "8|F|SKU 'F': quantity '99999999999999999999' is out of range\n"
        "B,C,D,E,F,");
}

TEST_CASE("postgres rows: a held SKU has no row even where another row names it correctly") {
  const Feed feed = build({{"A", "7"}, {"A", std::nullopt}, {"B", "2"}}, QuantityText::integer,
                          DuplicatePolicy::sum);
  CHECK(dump(feed) == "B=2@3;\n2|A|SKU 'A': quantity is NULL (NULL is not zero)\nA,");
}

TEST_CASE("postgres rows: NUMERIC and floating-point whole numbers are integers") {
  const Feed feed = build({{"A", "12.000"},
                           {"B", "-3.0"},
                           {"C", "5"},
                           {"D", "0.50"},
                           {"E", "NaN"},
                           {"F", "1e+06"},
                           {"G", ".0"}},
                          QuantityText::decimal);
  CHECK(dump(feed) ==
        "A=12@1;B=-3@2;C=5@3;\n"
        "4|D|SKU 'D': quantity '0.50' is not an integer\n"
        "5|E|SKU 'E': quantity 'NaN' is not an integer\n"
        "6|F|SKU 'F': quantity '1e+06' is not an integer\n"
        "7|G|SKU 'G': quantity '.0' is not an integer\n"
        "D,E,F,G,");
  // A text column keeps the CSV rule: "12.0" is not an integer there.
  CHECK(dump(build({{"A", "12.0"}})) == "\n1|A|SKU 'A': quantity '12.0' is not an integer\nA,");
}

TEST_CASE("postgres rows: duplicate SKUs, as the CSV reader's policies") {
  const std::vector<Row> rows{{"A", "1"}, {"B", "2"}, {"A", "3"}, {"C", "4"}};
  CHECK(dump(build(rows)) ==
        "B=2@2;C=4@4;\n"
        "1|A|duplicate SKU 'A' (also on line 3)\n"
        "3|A|duplicate SKU 'A' (also on line 1)\n"
        "A,");
  CHECK(dump(build(rows, QuantityText::integer, DuplicatePolicy::sum)) == "A=4@1;B=2@2;C=4@4;\n");
  // Trimming makes "A " the same SKU as "A".
  CHECK(dump(build({{"A", "1"}, {"A ", "2"}}, QuantityText::integer, DuplicatePolicy::sum)) ==
        "A=3@1;\n");
}

TEST_CASE("postgres rows: an empty result is an empty feed") {
  CHECK(dump(build({})) == "\n");
}

TEST_CASE("libpq messages: one line, and the password never shows") {
  CHECK(clean_libpq_message("connection to server at \"db\" (10.0.0.1), port 5432 failed: "
                            "Connection refused\n\tIs the server running on that host and "
                            "accepting TCP/IP connections?\n",
                            "") ==
        "connection to server at \"db\" (10.0.0.1), port 5432 failed: Connection refused Is the "
        "server running on that host and accepting TCP/IP connections?");
  CHECK(clean_libpq_message("FATAL:  password authentication failed for user \"s3cret\"\n",
                            "s3cret") == "FATAL:  password authentication failed for user \"***\"");
  CHECK(clean_libpq_message("aaaa", "aa") == "******");
  CHECK(clean_libpq_message("", "x").empty());
}

TEST_CASE("postgres warehouse: describe() is the conninfo, and a failed read says where") {
  test::ScratchDir dir;
  config::PostgresWarehouseConfig config;
  // Port 1 on loopback: refused at once, no server needed.
  config.conninfo = "host=127.0.0.1 port=1 dbname=wms user=packagebee";
  config.query = "SELECT sku, quantity FROM stock";
  config.connect_timeout = std::chrono::seconds(2);
  PostgresWarehouse warehouse(config);
  CHECK(warehouse.describe() == "postgres host=127.0.0.1 port=1 dbname=wms user=packagebee");

  SUBCASE("connection refused") {
    const std::string secret = "pw-connection-refused-1";
    test::write_file(dir / "password", secret + "\n");
    config.password_file = dir / "password";
    try {
      read_postgres_warehouse(config);
      FAIL("expected a WarehouseError");
    } catch (const WarehouseError& e) {
      const std::string what = e.what();
      CAPTURE(what);
      CHECK(
          what.starts_with("postgres host=127.0.0.1 port=1 dbname=wms user=packagebee: "
                           "connection to server at \"127.0.0.1\", port 1 failed:"));
      CHECK(what.find('\n') == std::string::npos);
      CHECK(what.find(secret) == std::string::npos);
    }
  }
  SUBCASE("the password file cannot be read") {
    config.password_file = dir / "missing";
    try {
      read_postgres_warehouse(config);
      FAIL("expected a WarehouseError");
    } catch (const WarehouseError& e) {
      const std::string what = e.what();
      CAPTURE(what);
      CHECK(
          what.starts_with("postgres host=127.0.0.1 port=1 dbname=wms user=packagebee: cannot "
                           "read password_file "));
    }
  }
  SUBCASE("through the coroutine and the pool") {
    PostgresWarehouse refused(config);
    CHECK_THROWS_AS(test::run_with_pool([&](auto pool) { return refused.read(pool, {}); }),
                    WarehouseError);
  }
}

TEST_CASE("postgres rows with a location column: filtered, then added up per SKU") {
  PostgresFeedBuilder builder("postgres dbname=wms", DuplicatePolicy::error, QuantityText::integer,
                              LocationTotals({"EAST", "WEST"}));
  builder.add(1, "A", "5", "EAST");
  builder.add(2, "B", "1", "NORTH");      // not wanted
  builder.add(3, "A", "7", "WEST  ");     // CHAR(n) padding
  builder.add(4, "C", Value{}, "NORTH");  // a NULL quantity where nobody looks holds nothing
  builder.add(5, "B", "2", "WEST");
  builder.add(6, "D", "3", Value{});  // NULL location: blank, not in the list
  builder.add(7, "E", "1", "EAST");
  builder.add(8, "E", "1", "EAST");  // a duplicate at one location
  builder.add(9, "F", "2", "EAST");
  builder.add(10, "F", Value{}, "WEST");  // held everywhere
  CHECK(dump(builder.finish()) ==
        "A=12@1;B=2@5;\n"
        "7|E|duplicate SKU 'E' (also on line 8)\n"
        "8|E|duplicate SKU 'E' (also on line 7)\n"
        "10|F|SKU 'F': quantity is NULL (NULL is not zero)\n"
        "E,F,");
}

TEST_CASE("postgres rows with a location column and no list: every location counts") {
  PostgresFeedBuilder builder("postgres dbname=wms", DuplicatePolicy::sum, QuantityText::decimal,
                              LocationTotals({}));
  builder.add(1, "A", "5.000", "EAST");
  builder.add(2, "A", "7", Value{});
  builder.add(3, "A", "1", "EAST");
  CHECK(dump(builder.finish()) == "A=13@1;\n");
}

TEST_CASE("postgres cursor values order numerically when both are integers, else as text") {
  using pb::connectors::cursor_less;
  CHECK(cursor_less("9", "10"));
  CHECK_FALSE(cursor_less("10", "9"));
  CHECK(cursor_less("-5", "3"));
  // PostgreSQL's UTC timestamps: the text order is the time order, fractions included.
  CHECK(cursor_less("2026-11-26 10:00:00+00", "2026-11-26 10:00:00.5+00"));
  CHECK(cursor_less("2026-11-26 10:00:00.123+00", "2026-11-26 10:00:00.5+00"));
  CHECK(cursor_less("2026-11-26 09:59:59.999999+00", "2026-11-26 10:00:00+00"));
  CHECK_FALSE(cursor_less("2026-11-26", "2026-11-26"));
}

namespace {

// Knows A=1, C=3 and E=5, once each, as the engine's DigestSieve would.
class KnowsAC final : public FeedSieve {
 public:
  bool known(std::string_view sku, Quantity quantity) override {
    ++asked;
    const bool known = (sku == "A" && quantity == 1) || (sku == "C" && quantity == 3) ||
                       (sku == "E" && quantity == 5);
    return known && dropped.insert(std::string(sku)).second;
  }
  void restart() override {}
  int asked = 0;
  std::set<std::string> dropped;
};

}  // namespace

TEST_CASE("postgres rows through a sieve: the rows it knows are dropped and counted") {
  KnowsAC sieve;
  PostgresFeedBuilder builder("postgres dbname=wms", DuplicatePolicy::error, QuantityText::decimal,
                              std::nullopt, &sieve);
  builder.add(1, "A", "1.000", Value{});  // known: the decimal's whole part is what it asks
  builder.add(2, "B", "2", Value{});
  builder.add(3, "C", "30", Value{});     // C changed
  builder.add(4, "D", Value{}, Value{});  // a bad row is never the sieve's to answer
  builder.add(5, " E ", "5", Value{});    // known, trimmed
  const Feed feed = builder.finish();
  CHECK(feed.sieved == 2);
  CHECK(dump(feed) == "B=2@2;C=30@3;\n4|D|SKU 'D': quantity is NULL (NULL is not zero)\nD,");
  CHECK(sieve.asked == 4);
  // With a location column, rows are added up per SKU later: the sieve is not asked.
  KnowsAC unused;
  PostgresFeedBuilder located("postgres dbname=wms", DuplicatePolicy::error, QuantityText::integer,
                              LocationTotals({}), &unused);
  located.add(1, "A", "1", "EAST");
  CHECK(located.finish().sieved == 0);
  CHECK(unused.asked == 0);
}
