#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../temp_dir.hpp"
#include "state/inventory_db.hpp"

using namespace pb;
using namespace pb::state;

namespace {
std::vector<std::string> pending_skus(InventoryDb& db, std::string_view conn) {
  std::vector<std::string> out;
  db.read(conn, [&](ConnectionTxn& t) {
    auto c = t.pending_cursor();
    for (bool ok = c.seek(); ok; ok = c.next()) out.emplace_back(c.key());
  });
  return out;
}
}  // namespace

TEST_CASE("the change index follows every item write") {
  pb::test::TempDir dir;
  InventoryDb db(dir.path());
  db.write("shop", [](ConnectionTxn& t) {
    t.put_item("A", ItemRecord{7, 1, 7, true, std::nullopt, 0, "", false});
    t.put_item("B", ItemRecord{10, 1, 10, true, 10, 2, "", false});
    t.put_item("C", ItemRecord{3, 1, 3, true, 2, 2, "", false});
  });
  CHECK(pending_skus(db, "shop") == std::vector<std::string>{"A", "C"});
  db.write("shop", [](ConnectionTxn& t) {
    auto a = *t.item("A");
    a.store_quantity = 7;
    t.put_item("A", a);
  });
  CHECK(pending_skus(db, "shop") == std::vector<std::string>{"C"});
  // Another connection's SKUs never show through.
  db.write("other", [](ConnectionTxn& t) {
    t.put_item("A", ItemRecord{1, 1, 1, true, {}, 0, ""});
  });
  CHECK(pending_skus(db, "shop") == std::vector<std::string>{"C"});
  CHECK(pending_skus(db, "other") == std::vector<std::string>{"A"});
}

TEST_CASE("state survives reopening, and a foreign schema version is refused") {
  pb::test::TempDir dir;
  {
    InventoryDb db(dir.path());
    db.write("shop", [](ConnectionTxn& t) {
      t.put_item("A", ItemRecord{7, 1, 7, true, std::nullopt, 0, "", false});
      t.put_connection(ConnectionRecord{5, 123, 0, false, "", "", {}, {}});
    });
  }
  {
    InventoryDb db(dir.path());
    db.read("shop", [](ConnectionTxn& t) {
      CHECK(t.item("A")->quantity == 7);
      CHECK(t.connection().next_run_id == 5);
      CHECK(t.connection().next_due_at == 123);
    });
    CHECK(db.connection_names() == std::vector<std::string>{"shop"});
    db.env().write([](lmdb::Txn& t) { t.put(t.open_db("meta"), "schema_version", "99"); });
  }
  CHECK_THROWS_WITH_AS(InventoryDb(dir.path()), doctest::Contains("schema version 99"),
                       std::runtime_error);
}

TEST_CASE("run history keeps the newest runs only") {
  pb::test::TempDir dir;
  InventoryDb db(dir.path());
  db.write("shop", [](ConnectionTxn& t) {
    for (std::uint64_t id = 1; id <= kRunsKept + 5; ++id) {
      RunRecord r;
      r.id = id;
      r.result = RunResult::ok;
      t.put_run(r);
    }
  });
  db.read("shop", [](ConnectionTxn& t) {
    CHECK_FALSE(t.run(5).has_value());
    CHECK(t.run(6).has_value());
    CHECK(t.last_run()->id == kRunsKept + 5);
    const auto recent = t.runs(3);
    REQUIRE(recent.size() == 3);
    CHECK(recent[0].id == kRunsKept + 5);
    CHECK(recent[2].id == kRunsKept + 3);
    CHECK(t.runs(5000).size() == kRunsKept);
  });
}

TEST_CASE("a run left running by a killed process is marked failed at startup") {
  pb::test::TempDir dir;
  InventoryDb db(dir.path());
  db.write("a", [](ConnectionTxn& t) {
    t.put_connection({});
    t.put_run(RunRecord{1, SyncKind::full, Trigger::manual, 10, 0, RunResult::running, 0, 0, 0, 0,
                        0, ""});
  });
  db.write("b", [](ConnectionTxn& t) {
    t.put_connection({});
    t.put_run(
        RunRecord{1, SyncKind::full, Trigger::manual, 10, 20, RunResult::ok, 0, 0, 0, 0, 0, ""});
  });
  CHECK(db.fail_interrupted_runs(99) == std::vector<std::string>{"a"});
  db.read("a", [](ConnectionTxn& t) {
    CHECK(t.last_run()->result == RunResult::failed);
    CHECK(t.last_run()->finished_at == 99);
  });
  db.read("b", [](ConnectionTxn& t) { CHECK(t.last_run()->result == RunResult::ok); });
}
