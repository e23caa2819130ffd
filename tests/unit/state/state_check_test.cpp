#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "../temp_dir.hpp"
#include "state/inventory_db.hpp"
#include "state/state_check.hpp"

using namespace pb;
using namespace pb::state;

namespace {
// A state with `n` items of connection "c" and one run, closed again.
void make_state(const std::filesystem::path& dir, int n) {
  InventoryDb db(dir);
  db.write("c", [&](ConnectionTxn& t) {
    for (int i = 0; i < n; ++i) {
      ItemRecord item;
      item.quantity = item.wanted = i;
      t.put_item("S" + std::to_string(100000 + i), item);
    }
    t.put_connection(ConnectionRecord{});
    RunRecord run;
    run.id = 1;
    t.put_run(run);
  });
}
}  // namespace

TEST_CASE("a sound state verifies, and no state at all is sound too") {
  pb::test::TempDir dir;
  CHECK(verify_state(dir.path()) == 0);
  make_state(dir.path(), 1000);
  // meta 1, items 1000, pending 1000, runs 1, connections 1
  CHECK(verify_state(dir.path()) == 2003);
  const auto check = verify_state_isolated(dir.path());
  CHECK(check.verdict == StateCheck::Verdict::ok);
  CHECK(check.records == 2003);
}

TEST_CASE("a record that does not decode is named by the check, and the run-time read throws") {
  pb::test::TempDir dir;
  make_state(dir.path(), 10);
  {
    InventoryDb db(dir.path());
    db.write("c", [](ConnectionTxn& t) {
      // Written behind put_item's back, as a damaged page would present it.
      MDB_dbi items = t.txn().open_db("items");
      t.txn().put(items, std::string("c\0S100003", 9), "\x01garbage");
    });
    CHECK_THROWS_AS(db.read("c", [](ConnectionTxn& t) { t.item("S100003"); }), RecordError);
  }
  CHECK_THROWS_WITH_AS(verify_state(dir.path()), doctest::Contains("items record 'c/S100003'"),
                       lmdb::Corrupt);
  const auto check = verify_state_isolated(dir.path());
  CHECK(check.verdict == StateCheck::Verdict::corrupt);
  CHECK(check.problem.find((dir.path() / "data.mdb").string()) != std::string::npos);
}

TEST_CASE("a truncated state file is refused before any page past its end is touched") {
  pb::test::TempDir dir;
  make_state(dir.path(), 20000);
  const auto file = dir.path() / "data.mdb";
  std::filesystem::resize_file(file, std::filesystem::file_size(file) / 2);
  // Opening it used to raise SIGBUS at the first transaction.
  CHECK_THROWS_WITH_AS(InventoryDb{dir.path()}, doctest::Contains("is truncated"), lmdb::Corrupt);
  const auto check = verify_state_isolated(dir.path());
  CHECK(check.verdict == StateCheck::Verdict::corrupt);
  CHECK(check.problem.find("truncated") != std::string::npos);

  const auto aside = move_state_aside(dir.path());
  REQUIRE(aside);
  CHECK(aside->filename().string().starts_with("data.mdb.corrupt-"));
  CHECK(std::filesystem::exists(*aside));
  CHECK_FALSE(std::filesystem::exists(file));
  CHECK(verify_state(dir.path()) == 0);
  InventoryDb fresh(dir.path());
  CHECK(fresh.connection_names().empty());
  CHECK_FALSE(move_state_aside(pb::test::TempDir().path()));
}

TEST_CASE("a check that crashes is a verdict, not a crash") {
  pb::test::TempDir dir;
  make_state(dir.path(), 20000);
  // Garbage over every B-tree page but the metas: LMDB follows pointers it reads there.
  const auto file = dir.path() / "data.mdb";
  const auto size = std::filesystem::file_size(file);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    for (std::uintmax_t at = 2 * 4096; at + 64 < size; at += 4096) {
      f.seekp(static_cast<std::streamoff>(at));
      for (int i = 0; i < 64; ++i) f.put(static_cast<char>(0xA5 ^ i));
    }
  }
  const auto check = verify_state_isolated(dir.path());
  CHECK(check.verdict == StateCheck::Verdict::corrupt);
  CHECK_FALSE(check.problem.empty());
  MESSAGE(check.problem);
}
