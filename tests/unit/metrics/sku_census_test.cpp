// The SKU census and the last runs read from LMDB.
#include <doctest/doctest.h>

#include "../temp_dir.hpp"
#include "metrics/sku_census.hpp"

using namespace pb;
using state::ItemRecord;

TEST_CASE("count_skus sorts listed SKUs into pending, settled and rejected") {
  test::TempDir dir;
  state::InventoryDb db(dir.path());
  db.write("shop", [](state::ConnectionTxn& t) {
    t.put_item("never-pushed", ItemRecord{7, 1, 7, true, std::nullopt, 0, "", false});
    t.put_item("settled-1", ItemRecord{10, 1, 10, true, 10, 2, "", false});
    t.put_item("settled-2", ItemRecord{0, 1, 0, true, 0, 2, "", false});
    t.put_item("changed", ItemRecord{3, 1, 3, true, 2, 2, "", false});
    t.put_item("in-doubt", ItemRecord{3, 1, 3, true, 3, 2, "", true});
    t.put_item("refused", ItemRecord{3, 1, 3, true, 2, 2, "no such SKU", false});
    t.put_item("unlisted", ItemRecord{3, 1, 3, false, 2, 2, "", false});
  });
  db.write("other", [](state::ConnectionTxn& t) {
    t.put_item("x", ItemRecord{1, 1, 1, true, std::nullopt, 0, "", false});
  });
  const auto counts = metrics::count_skus(db, "shop");
  CHECK(counts.pending == 3);
  CHECK(counts.settled == 2);
  CHECK(counts.rejected == 1);
  CHECK(metrics::count_skus(db, "none").pending == 0);
  // Given the listed count (6 here), only the change index is walked: the same answer.
  const auto known = metrics::count_skus(db, "shop", 6);
  CHECK(known.pending == 3);
  CHECK(known.settled == 2);
  CHECK(known.rejected == 1);
  // The listed count is taken as given: the settled ones are not looked at.
  CHECK(metrics::count_skus(db, "shop", 1000).settled == 996);
}

TEST_CASE("last_runs finds the last ended run and the last ok one") {
  test::TempDir dir;
  state::InventoryDb db(dir.path());
  const auto put = [&](std::uint64_t id, RunResult result, UnixMillis finished) {
    db.write("shop", [&](state::ConnectionTxn& t) {
      state::RunRecord r;
      r.id = id;
      r.result = result;
      r.started_at = finished - 1;
      r.finished_at = finished;
      t.put_run(r);
    });
  };
  CHECK(metrics::last_runs(db, "shop").finished == 0);
  put(1, RunResult::ok, 1000);
  put(2, RunResult::failed, 2000);
  put(3, RunResult::partial, 3000);
  const auto last = metrics::last_runs(db, "shop");
  CHECK(last.finished == 3000);
  CHECK(last.ok == 1000);
}
