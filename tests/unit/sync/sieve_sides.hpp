// beed's side of one connection for the sieve's tests: a database, the real CSV warehouse
// behind a spy, a store, and the RunControl kept between runs; and what a database holds.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "../temp_dir.hpp"
#include "connectors/warehouse/csv/csv_warehouse.hpp"
#include "fakes.hpp"
#include "run_to_end.hpp"
#include "state/inventory_db.hpp"
#include "state/records.hpp"
#include "sync/digest_sieve.hpp"
#include "sync/sync_run.hpp"

namespace pb::test {

// Every stored item of `connection` ("SKU=quantity/wanted/L/store quantity/error[/updated_at];")
// and the change index, in one string that compares and prints.
inline std::string stored_items(state::InventoryDb& db, const std::string& connection, bool times) {
  std::string out;
  db.read(connection, [&](state::ConnectionTxn& t) {
    auto cur = t.item_cursor();
    for (bool ok = cur.seek(); ok; ok = cur.next()) {
      const auto r = state::decode_item(cur.value());
      out += std::string(cur.key()) + "=" + std::to_string(r.quantity) + "/" +
             std::to_string(r.wanted) + "/" + (r.listed ? "L" : "-") + "/" +
             (r.store_quantity ? std::to_string(*r.store_quantity) : "none") + "/" + r.error +
             (times ? "/" + std::to_string(r.updated_at) : "") + ";";
    }
    out += "\npending:";
    auto pen = t.pending_cursor();
    for (bool ok = pen.seek(); ok; ok = pen.next()) out += std::string(pen.key()) + ",";
  });
  return out;
}

// A warehouse between the run and the real CSV reader: notes how many reads each run makes and
// what they dropped, and (`whole`) withholds the engine's sieve, to read whole feeds.
class SpyWarehouse final : public connectors::Warehouse {
 public:
  SpyWarehouse(connectors::Warehouse& inner, bool whole) : inner_(inner), whole_(whole) {}
  boost::asio::awaitable<connectors::Feed> read(boost::asio::any_io_executor pool,
                                                connectors::ReadRequest request) override {
    ++reads;
    if (whole_) request.sieve = nullptr;
    auto feed = co_await inner_.read(pool, request);
    sieved += feed.sieved;
    if (const auto* s = dynamic_cast<const sync::DigestSieve*>(request.sieve.get()))
      lines_known += s->lines_known();
    co_return feed;
  }
  std::string describe() const override { return inner_.describe(); }
  int reads = 0;
  std::uint64_t sieved = 0;
  std::uint64_t lines_known = 0;  // of those, the rows known by their lines

 private:
  connectors::Warehouse& inner_;
  bool whole_;
};

// beed's side of one connection: a database, a store, and the RunControl kept between runs.
struct Side {
  Side(const std::filesystem::path& csv, bool whole)
      : csv_warehouse(config_for(csv)), warehouse(csv_warehouse, whole) {}
  static config::CsvWarehouseConfig config_for(const std::filesystem::path& csv) {
    config::CsvWarehouseConfig c;
    c.path = csv;
    c.duplicates = DuplicatePolicy::sum;
    return c;
  }
  pb::test::TempDir dir;
  state::InventoryDb db{dir.path()};
  connectors::CsvWarehouse csv_warehouse;
  SpyWarehouse warehouse;
  pb::test::MemoryStore store;
  sync::RunControl control;
  std::uint64_t next_id = 1;

  state::RunRecord run(boost::asio::io_context& io, boost::asio::thread_pool& pool,
                       const sync::Rules& rules, SyncKind kind) {
    state::RunRecord r;
    r.id = next_id++;
    r.kind = kind;
    r.started_at = now_millis();
    sync::RunProgress fresh;
    control.begin(fresh);
    sync::RunEnvironment env{db,
                             warehouse,
                             store,
                             pool.get_executor(),
                             {3, std::chrono::milliseconds(1), std::chrono::milliseconds(2)}};
    return pb::test::run_to_end(io, env, rules, r, control);
  }
};

// Two sides reading the same CSV file, one through the engine's sieve and one whole: each
// round runs both and checks they leave the same runs, items and store.
struct SieveTwins {
  SieveTwins() { rules.missing_skus = MissingSkus::zero; }
  ~SieveTwins() { pool.join(); }

  void round(const std::string& text, SyncKind kind) {
    std::ofstream(csv) << text;
    const auto a = sieved.run(io, pool, rules, kind);
    const auto b = whole.run(io, pool, rules, kind);
    CHECK(a.result == b.result);
    CHECK(a.read == b.read);
    CHECK(a.bad_rows == b.bad_rows);
    CHECK(a.changed == b.changed);
    CHECK(a.pushed == b.pushed);
    CHECK(a.error == b.error);
    CHECK(stored_items(sieved.db, "shop", false) == stored_items(whole.db, "shop", false));
    CHECK(sieved.store.quantities == whole.store.quantities);
    CHECK((sieved.control.feed_digest != nullptr) == (whole.control.feed_digest != nullptr));
  }

  TempDir feeds;
  std::filesystem::path csv = feeds.path() / "feed.csv";
  boost::asio::io_context io;
  boost::asio::thread_pool pool{2};
  sync::Rules rules;
  Side sieved{csv, false};
  Side whole{csv, true};
};

}  // namespace pb::test
