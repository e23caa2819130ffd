#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "../temp_dir.hpp"
#include "fakes.hpp"
#include "sync/connection_runner.hpp"

using namespace pb;
using namespace pb::sync;
namespace asio = boost::asio;

namespace {

struct Harness {
  pb::test::TempDir dir;
  state::InventoryDb db{dir.path()};
  asio::io_context io;
  asio::thread_pool pool{2};
  SyncSlots slots{io.get_executor(), 4};
  pb::test::MemoryWarehouse* warehouse = nullptr;
  pb::test::MemoryStore* store = nullptr;
  std::shared_ptr<ConnectionRunner> runner;

  explicit Harness(std::chrono::seconds schedule = std::chrono::seconds(3600)) {
    config::ConnectionConfig cfg;
    cfg.name = "shop";
    cfg.inventory.schedule = schedule;
    auto w = std::make_unique<pb::test::MemoryWarehouse>();
    auto s = std::make_unique<pb::test::MemoryStore>();
    warehouse = w.get();
    store = s.get();
    warehouse->feed = pb::test::make_feed({{"A", 7}, {"B", 10}, {"C", 3}});
    RunnerDeps deps{io.get_executor(), pool.get_executor(), db, slots, RetryPolicy{}};
    runner = std::make_shared<ConnectionRunner>(deps, cfg, std::move(w), std::move(s));
  }
  ~Harness() {
    runner->stop();
    pool.join();
  }
  void run_until(const std::function<bool()>& done) {
    for (int i = 0; i < 500 && !done(); ++i) {
      io.restart();
      io.run_for(std::chrono::milliseconds(10));
    }
    REQUIRE(done());
  }
  std::vector<state::RunRecord> runs() {
    std::vector<state::RunRecord> out;
    db.read("shop", [&](state::ConnectionTxn& t) { out = t.runs(100); });
    return out;
  }
};

}  // namespace

TEST_CASE("one run at a time; requests during a run are queued once") {
  Harness h;
  const auto first = h.runner->request(SyncKind::smart, Trigger::manual);
  const auto second = h.runner->request(SyncKind::smart, Trigger::manual);
  const auto third = h.runner->request(SyncKind::full, Trigger::manual);
  CHECK(first.run_id == 1);
  CHECK_FALSE(first.queued);
  CHECK(second.run_id == 2);
  CHECK(second.queued);
  CHECK(third.run_id == 2);             // joined the queued run ...
  CHECK(third.kind == SyncKind::full);  // ... and upgraded it
  CHECK(h.runner->syncing());
  CHECK_FALSE(h.runner->finished(1));
  h.run_until([&] { return h.runner->finished(2); });
  const auto runs = h.runs();
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].id == 2);
  CHECK(runs[0].kind == SyncKind::full);
  CHECK(runs[1].kind == SyncKind::smart);
  CHECK(h.store->calls.size() == 2);
  CHECK_FALSE(h.runner->syncing());
}

TEST_CASE("a new connection's first automatic run is a Full Sync, then the schedule's kind") {
  Harness h(std::chrono::seconds(1));
  const auto before = now_millis();
  h.runner->start(false);
  h.run_until([&] { return h.runner->finished(1); });
  auto runs = h.runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].kind == SyncKind::full);
  CHECK(runs[0].trigger == Trigger::schedule);
  CHECK(h.runner->next_due_at() >= before + 1000);
  h.db.read("shop", [&](state::ConnectionTxn& t) {
    CHECK(t.connection().next_due_at == h.runner->next_due_at());
    CHECK(t.connection().last_full_ok_at > 0);
  });
  h.run_until([&] { return h.runner->finished(2); });
  runs = h.runs();
  CHECK(runs[0].kind == SyncKind::smart);
  CHECK(runs[0].trigger == Trigger::schedule);
}

TEST_CASE("the schedule survives a restart") {
  Harness h;
  h.db.write("shop", [](state::ConnectionTxn& t) {
    state::ConnectionRecord r;
    r.next_run_id = 8;
    r.next_due_at = now_millis() + 3'600'000;
    r.last_full_ok_at = 1;
    t.put_connection(r);
  });
  h.runner->start(false);
  h.io.run_for(std::chrono::milliseconds(50));
  CHECK_FALSE(h.runner->syncing());
  CHECK(h.runner->request(SyncKind::smart, Trigger::manual).run_id == 8);
}
