#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <regex>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include "../captured_log.hpp"
#include "../temp_dir.hpp"
#include "fakes.hpp"
#include "run_to_end.hpp"
#include "sync/sync_run.hpp"

using namespace pb;
using namespace pb::sync;
namespace asio = boost::asio;

namespace {

struct Harness {
  pb::test::TempDir dir;
  state::InventoryDb db{dir.path()};
  pb::test::MemoryWarehouse warehouse;
  pb::test::MemoryStore store;
  asio::io_context io;
  asio::thread_pool pool{2};
  async::BackoffPolicy retry{3, std::chrono::milliseconds(1), std::chrono::milliseconds(4)};
  Rules rules;
  std::uint64_t next_id = 1;
  bool cancelled = false;  // the runner asked the run to stop before it started

  ~Harness() { pool.join(); }

  state::RunRecord run(SyncKind kind) {
    state::RunRecord r;
    r.id = next_id++;
    r.kind = kind;
    r.started_at = now_millis();
    RunControl control;
    control.set_cancel(cancelled);
    RunEnvironment env{db, warehouse, store, pool.get_executor(), retry};
    return pb::test::run_to_end(io, env, rules, r, control);
  }

  state::ItemRecord item(const std::string& sku) {
    state::ItemRecord r;
    db.read("shop", [&](state::ConnectionTxn& t) { r = t.item(sku).value(); });
    return r;
  }
  state::FullConfirmation full() {
    state::FullConfirmation f;
    db.read("shop", [&](state::ConnectionTxn& t) { f = t.connection().full_confirmation; });
    return f;
  }
  UnixMillis confirmed_at(const std::string& sku) {
    return state::confirmed_at(sku, item(sku), full());
  }
  bool pending(const std::string& sku) {
    bool p = false;
    db.read("shop", [&](state::ConnectionTxn& t) { p = t.is_pending(sku); });
    return p;
  }
};

}  // namespace

TEST_CASE("the product's example: the 3 PM Smart Sync pushes only A") {
  Harness h;
  // 2 PM: A 7, B 10, C 3. The first sync of a new connection pushes everything.
  h.warehouse.feed = pb::test::make_feed({{"A", 7}, {"B", 10}, {"C", 3}});
  auto first = h.run(SyncKind::full);
  CHECK(first.result == RunResult::ok);
  CHECK(first.pushed == 3);
  REQUIRE(h.store.calls.size() == 1);
  CHECK(h.store.pushed_skus(0) == std::set<std::string>{"A", "B", "C"});

  // 3 PM: A is now 5; B and C unchanged.
  h.warehouse.feed = pb::test::make_feed({{"A", 5}, {"B", 10}, {"C", 3}});
  auto second = h.run(SyncKind::smart);
  CHECK(second.result == RunResult::ok);
  CHECK(second.read == 3);
  CHECK(second.changed == 1);
  CHECK(second.pushed == 1);
  REQUIRE(h.store.calls.size() == 2);
  CHECK(h.store.pushed_skus(1) == std::set<std::string>{"A"});
  CHECK(h.store.quantities == std::map<std::string, Quantity>{{"A", 5}, {"B", 10}, {"C", 3}});
  CHECK(h.item("A").store_quantity == 5);
  CHECK_FALSE(h.pending("A"));

  // Nothing changed: a Smart Sync pushes nothing; a Full Sync pushes everything.
  auto idle = h.run(SyncKind::smart);
  CHECK(idle.pushed == 0);
  CHECK(h.store.calls.size() == 2);
  auto full = h.run(SyncKind::full);
  CHECK(full.pushed == 3);
  CHECK(h.store.pushed_skus(2) == std::set<std::string>{"A", "B", "C"});
}

TEST_CASE(
    "a rejected SKU makes the run partial, stays pending and is retried by the next Smart Sync") {
  Harness h;
  h.warehouse.feed = pb::test::make_feed({{"A", 1}, {"B", 2}, {"C", 3}});
  h.store.unknown_skus = {"B"};
  auto r = h.run(SyncKind::smart);
  CHECK(r.result == RunResult::partial);
  CHECK(r.pushed == 2);
  CHECK(r.rejected == 1);
  CHECK(r.error == "B: unknown SKU B");
  CHECK(h.pending("B"));
  CHECK(h.item("B").error == "unknown SKU B");
  CHECK_FALSE(h.item("B").store_quantity.has_value());

  h.store.unknown_skus.clear();
  auto again = h.run(SyncKind::smart);
  CHECK(again.result == RunResult::ok);
  CHECK(h.store.pushed_skus(1) == std::set<std::string>{"B"});
  CHECK(h.item("B").error.empty());
  CHECK_FALSE(h.pending("B"));
}

TEST_CASE("a rejection in a Full Sync keeps an unchanged SKU pending until the store takes it") {
  Harness h;
  h.warehouse.feed = pb::test::make_feed({{"A", 1}, {"B", 2}});
  h.run(SyncKind::full);
  h.store.unknown_skus = {"A"};
  CHECK(h.run(SyncKind::full).result == RunResult::partial);
  CHECK(h.pending("A"));
  h.store.unknown_skus.clear();
  h.run(SyncKind::smart);
  CHECK(h.store.calls.back().size() == 1);
  CHECK_FALSE(h.pending("A"));
}

TEST_CASE("a Full Sync leaves the records the store confirmed as they were, and says it once") {
  Harness h;
  h.warehouse.feed = pb::test::make_feed({{"A", 1}, {"B", 2}, {"C", 3}});
  h.store.batch_limit = 2;
  const auto first = h.run(SyncKind::full);
  const auto a_first = h.item("A");
  const auto c_first = h.item("C");
  CHECK(a_first.confirmed_at >= first.started_at);
  CHECK(h.full().whole_at == first.started_at);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));

  h.warehouse.feed = pb::test::make_feed({{"A", 1}, {"B", 5}, {"C", 3}});
  const auto second = h.run(SyncKind::full);
  REQUIRE(second.result == RunResult::ok);
  CHECK(second.pushed == 3);
  CHECK(h.store.quantities == std::map<std::string, Quantity>{{"A", 1}, {"B", 5}, {"C", 3}});
  // A and C: the store already held their quantities, their records are as they were.
  CHECK(h.item("A").confirmed_at == a_first.confirmed_at);
  CHECK(h.item("C").confirmed_at == c_first.confirmed_at);
  CHECK(h.item("B").confirmed_at >= second.started_at);  // B changed: written
  CHECK(h.item("B").store_quantity == 5);
  CHECK(h.full() == state::FullConfirmation{second.started_at, 0, ""});
  for (const char* sku : {"A", "B", "C"}) {
    CHECK(h.confirmed_at(sku) >= second.started_at);
    CHECK_FALSE(h.pending(sku));
  }
}

TEST_CASE("repush_after counts from the last Full Sync that confirmed a SKU") {
  Harness h;
  h.rules.repush_after = 300;
  h.warehouse.feed = pb::test::make_feed({{"A", 1}, {"B", 2}});
  const auto first = h.run(SyncKind::full);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto second = h.run(SyncKind::full);  // confirms both without writing them
  CHECK(h.store.calls.size() == 2);
  CHECK(h.item("A").confirmed_at < second.started_at);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Their records are over 300 ms old, the second Full Sync's confirmation is not.
  const auto smart = h.run(SyncKind::smart);
  REQUIRE(smart.started_at - first.started_at >= 400);
  if (smart.started_at - second.started_at < 300) CHECK(h.store.calls.size() == 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto late = h.run(SyncKind::smart);
  CHECK(late.pushed == 2);
  REQUIRE(h.store.calls.size() == 3);
  CHECK(h.store.pushed_skus(2) == std::set<std::string>{"A", "B"});
}

TEST_CASE("a Full Sync cut short covers the SKUs its recorded batches reached, no more") {
  Harness h;
  h.warehouse.feed = pb::test::make_feed({{"A", 1}, {"B", 2}, {"C", 3}, {"D", 4}});
  h.store.batch_limit = 1;
  const auto first = h.run(SyncKind::full);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  int pushes = 0;
  h.store.final_failures = true;
  h.store.on_push = [&] {
    if (++pushes == 3) h.store.transient_failures = 1;  // C's batch: the store is down
  };
  const auto cut = h.run(SyncKind::full);
  CHECK(cut.result == RunResult::failed);
  CHECK(h.full() == state::FullConfirmation{first.started_at, cut.started_at, "C"});
  CHECK(h.confirmed_at("A") == cut.started_at);
  CHECK(h.confirmed_at("B") == cut.started_at);
  CHECK(h.item("C").in_doubt);  // no answer: its own time, and pending
  CHECK(h.confirmed_at("C") == h.item("C").confirmed_at);
  CHECK(h.pending("C"));
  // Not reached: its own confirmation by the first Full Sync.
  CHECK(h.confirmed_at("D") == h.item("D").confirmed_at);
  CHECK(h.confirmed_at("D") < cut.started_at);
}

TEST_CASE("a SKU back in the feed is pushed again: while it was out nothing was pushed for it") {
  Harness h;
  h.warehouse.feed = pb::test::make_feed({{"A", 1}, {"B", 2}});
  h.run(SyncKind::full);
  h.warehouse.feed = pb::test::make_feed({{"A", 1}});
  h.run(SyncKind::full);
  CHECK_FALSE(h.item("B").listed);
  CHECK(h.store.pushed_skus(1) == std::set<std::string>{"A"});
  h.warehouse.feed = pb::test::make_feed({{"A", 1}, {"B", 2}});
  const auto back = h.run(SyncKind::smart);
  CHECK(back.pushed == 1);
  CHECK(h.store.pushed_skus(2) == std::set<std::string>{"B"});
  CHECK(h.confirmed_at("B") >= back.started_at);
}

TEST_CASE("transient failures are retried inside the run") {
  Harness h;
  h.warehouse.feed = pb::test::make_feed({{"A", 1}, {"B", 2}});
  h.store.transient_failures = 2;
  auto r = h.run(SyncKind::smart);
  CHECK(r.result == RunResult::ok);
  CHECK(r.pushed == 2);
  CHECK(h.store.calls.size() == 3);
}

TEST_CASE("a store that stays down fails the run with every SKU still pending") {
  Harness h;
  h.warehouse.feed = pb::test::make_feed({{"A", 1}, {"B", 2}, {"C", 3}});
  h.store.batch_limit = 2;
  h.store.transient_failures = 100;
  auto r = h.run(SyncKind::full);
  CHECK(r.result == RunResult::failed);
  CHECK(r.error.find("store unavailable: 503 Service Unavailable") == 0);
  CHECK(r.pushed == 0);
  CHECK(h.store.calls.size() == 3);  // one batch, three attempts; the second batch is never tried
  CHECK(h.pending("A"));
  CHECK(h.pending("C"));
  CHECK(h.item("A").error.find("gave up after 3 attempts") == 0);
}

TEST_CASE("a connector that retried already (or cannot be mended) is not retried again") {
  Harness h;
  h.warehouse.feed = pb::test::make_feed({{"A", 1}, {"B", 2}, {"C", 3}});
  h.store.batch_limit = 2;
  h.store.transient_failures = 100;
  h.store.final_failures = true;
  auto r = h.run(SyncKind::full);
  CHECK(r.result == RunResult::failed);
  CHECK(r.error == "store unavailable: 503 Service Unavailable");
  CHECK(h.store.calls.size() == 1);  // no retry storm: one call, and no second batch
  CHECK(h.pending("A"));
  CHECK(h.pending("C"));
  CHECK(h.item("A").error == "503 Service Unavailable");
}

TEST_CASE("prepare runs once per run, only when there is something to push") {
  Harness h;
  h.warehouse.feed = pb::test::make_feed({{"A", 1}, {"B", 2}, {"C", 3}});
  h.store.batch_limit = 1;
  CHECK(h.run(SyncKind::smart).result == RunResult::ok);
  CHECK(h.store.prepared == 1);
  CHECK(h.store.calls.size() == 3);
  CHECK(h.run(SyncKind::smart).result == RunResult::ok);  // nothing changed: no store work
  CHECK(h.store.prepared == 1);
}

TEST_CASE("a store that cannot be prepared fails the run before any push") {
  Harness h;
  h.warehouse.feed = pb::test::make_feed({{"A", 1}});
  h.store.prepare_fails = true;
  auto r = h.run(SyncKind::full);
  CHECK(r.result == RunResult::failed);
  CHECK(r.error == "store unavailable: cannot read access_token_file /etc/t: Permission denied");
  CHECK(h.store.calls.empty());
  CHECK(h.pending("A"));
}

TEST_CASE("batches respect the store's cap and every batch is confirmed on its own") {
  Harness h;
  std::map<std::string, Quantity> rows;
  for (int i = 0; i < 25; ++i) rows["S" + std::to_string(100 + i)] = i;
  h.warehouse.feed = pb::test::make_feed(rows);
  h.store.batch_limit = 10;
  auto r = h.run(SyncKind::full);
  CHECK(r.pushed == 25);
  REQUIRE(h.store.calls.size() == 3);
  CHECK(h.store.calls[0].size() == 10);
  CHECK(h.store.calls[2].size() == 5);
  CHECK(h.store.calls[1].front().sku == "S110");
}

TEST_CASE("an unreadable warehouse or a refused feed fails the run and changes nothing") {
  Harness h;
  h.warehouse.fail = true;
  auto r = h.run(SyncKind::smart);
  CHECK(r.result == RunResult::failed);
  CHECK(r.error == "warehouse unreachable");
  h.warehouse.fail = false;
  h.warehouse.feed = pb::test::make_feed({});
  r = h.run(SyncKind::smart);
  CHECK(r.result == RunResult::failed);
  CHECK(r.error.find("no usable rows") != std::string::npos);
  CHECK(h.store.calls.empty());
  h.db.read("shop",
            [](state::ConnectionTxn& t) { CHECK(t.last_run()->result == RunResult::failed); });
}

TEST_CASE("bad feed rows make the run partial and name the first row") {
  Harness h;
  h.warehouse.feed = pb::test::make_feed({{"A", 1}});
  h.warehouse.feed.origin = "inv_1.csv";
  h.warehouse.feed.problems.push_back({7, "B", "quantity \"x\" is not an integer"});
  h.warehouse.feed.held_skus = {"B"};
  auto r = h.run(SyncKind::smart);
  CHECK(r.result == RunResult::partial);
  CHECK(r.bad_rows == 1);
  CHECK(r.error == "inv_1.csv line 7: quantity \"x\" is not an integer");
}

TEST_CASE("a push that reached the store unrecorded stays pending even if the quantity reverts") {
  Harness h;
  h.warehouse.feed = pb::test::make_feed({{"A", 1}, {"B", 1}});
  h.run(SyncKind::full);
  CHECK(h.item("A").store_quantity == 1);

  // A goes to 2; the store applies it, but beed "dies" before recording.
  h.warehouse.feed = pb::test::make_feed({{"A", 2}, {"B", 1}});
  h.store.die_after_apply = true;
  CHECK(h.run(SyncKind::smart).result == RunResult::failed);
  CHECK(h.store.quantities.at("A") == 2);
  CHECK(h.item("A").store_quantity == 1);  // we do not know the store has 2

  // The warehouse goes back to 1, the last confirmed figure. Without the
  // batch record A would look settled while the store holds 2.
  h.store.die_after_apply = false;
  h.warehouse.feed = pb::test::make_feed({{"A", 1}, {"B", 1}});
  const auto r = h.run(SyncKind::smart);
  CHECK(r.result == RunResult::ok);
  CHECK(r.pushed == 1);
  CHECK(h.store.pushed_skus(h.store.calls.size() - 1) == std::set<std::string>{"A"});
  CHECK(h.store.quantities.at("A") == 1);
  CHECK_FALSE(h.item("A").in_doubt);
  CHECK_FALSE(h.pending("A"));
  CHECK_FALSE(h.pending("B"));  // B was outside the batch: not re-pushed
}

TEST_CASE("a run stopped before it starts reads nothing, pushes nothing and says why") {
  Harness h;
  h.warehouse.feed = pb::test::make_feed({{"A", 1}, {"B", 2}});
  h.run(SyncKind::full);
  REQUIRE(h.warehouse.reads == 1);

  // A stop that came while the run waited for its sync slot.
  h.warehouse.feed = pb::test::make_feed({{"A", 5}, {"B", 2}});
  h.cancelled = true;
  const auto r = h.run(SyncKind::smart);
  CHECK(h.warehouse.reads == 1);  // the feed was not read
  CHECK(r.result == RunResult::failed);
  CHECK(r.error.find("stopped: beed is shutting down") == 0);
  CHECK(r.read == 0);
  CHECK(h.store.calls.size() == 1);
  CHECK(h.item("A").quantity == 1);
  CHECK_FALSE(h.pending("A"));
  h.db.read("shop", [&](state::ConnectionTxn& t) {
    CHECK(t.last_run()->id == r.id);
    CHECK(t.last_run()->result == RunResult::failed);
    CHECK(t.connection().next_due_at == 0);  // the next start runs at once
  });

  h.cancelled = false;
  const auto next = h.run(SyncKind::smart);
  CHECK(next.result == RunResult::ok);
  CHECK(next.pushed == 1);
  CHECK(h.warehouse.reads == 2);
}

TEST_CASE("a run logs where its time went, the store's answers apart, at debug level") {
  Harness h;
  h.warehouse.feed = pb::test::make_feed({{"A", 7}, {"B", 10}});
  h.store.on_push = [] { std::this_thread::sleep_for(std::chrono::milliseconds(60)); };
  std::string text;
  {
    pb::test::CapturedLog log(spdlog::level::debug);
    const auto run = h.run(SyncKind::full);
    CHECK(run.result == RunResult::ok);
    text = log.text();
  }
  std::smatch m;
  const std::regex line(
      R"(debug shop: run 1 took: read ([\d.]+) ms, detect ([\d.]+) ms, push ([\d.]+) ms )"
      R"(\(waiting for the store ([\d.]+) ms\), record ([\d.]+) ms)");
  REQUIRE_MESSAGE(std::regex_search(text, m, line), text);
  const double push = std::stod(m[3]), store = std::stod(m[4]);
  CHECK(store >= 60.0);
  CHECK(push >= store);
  CHECK(std::stod(m[1]) < 60.0);  // the store's time is not counted in the read
  {
    pb::test::CapturedLog log(spdlog::level::info);
    h.run(SyncKind::smart);
    CHECK(log.text().find(" took: ") == std::string::npos);
  }
}

TEST_CASE("the run's phase reads as the protocol's word for it") {
  CHECK(to_string(RunPhase::queued) == "queued");
  CHECK(to_string(RunPhase::reading) == "reading");
  CHECK(to_string(RunPhase::detecting) == "detecting");
  CHECK(to_string(RunPhase::pushing) == "pushing");
  CHECK(to_string(RunPhase::recording) == "recording");
}
