#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
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
  async::Semaphore slots{io.get_executor(), 4};
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
    RunnerDeps deps{io.get_executor(), pool.get_executor(), db, slots, async::BackoffPolicy{}};
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

TEST_CASE("one run at a time, requests during a run are queued once") {
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

TEST_CASE(
    "a paused connection runs no automatic sync, keeps that across a restart, and "
    "catches up on resume") {
  Harness h(std::chrono::seconds(1));
  h.runner->start(false);
  bool done = false;
  asio::co_spawn(
      h.io,
      [&]() -> asio::awaitable<void> {
        co_await h.runner->set_paused(true);
        done = true;
      },
      asio::detached);
  h.run_until([&] { return done; });
  CHECK(h.runner->paused());
  CHECK(h.runner->state_name() != "idle");
  h.db.read("shop", [](state::ConnectionTxn& t) { CHECK(t.connection().paused); });
  // Let any run already started end, then wait past the schedule: nothing new.
  h.run_until([&] { return !h.runner->syncing(); });
  const auto runs_before = h.runs().size();
  h.io.restart();
  h.io.run_for(std::chrono::milliseconds(1500));
  CHECK(h.runs().size() == runs_before);
  CHECK(h.runner->state_name() == "paused");
  // Manual runs still work while paused.
  const auto manual = h.runner->request(SyncKind::smart, Trigger::manual);
  h.run_until([&] { return h.runner->finished(manual.run_id); });

  done = false;
  asio::co_spawn(
      h.io,
      [&]() -> asio::awaitable<void> {
        co_await h.runner->set_paused(false);
        done = true;
      },
      asio::detached);
  h.run_until([&] { return done; });
  // The automatic run fell due while paused: it runs at once.
  h.run_until([&] { return h.runs().size() >= runs_before + 2; });
  CHECK(h.runs().front().trigger == Trigger::schedule);
}

TEST_CASE("stop() ends the run in flight after its current step, with SKUs left pending") {
  Harness h;
  h.store->batch_limit = 1;
  h.store->on_push = [&] { h.runner->stop(); };  // during the first batch
  h.runner->request(SyncKind::full, Trigger::manual);
  h.run_until([&] { return !h.runner->syncing(); });
  const auto run = h.runs().front();
  CHECK(run.result == RunResult::failed);
  CHECK(run.error.find("stopped: beed is shutting down") == 0);
  CHECK(h.store->calls.size() == 1);  // the batch in flight ends; no other starts
  bool any_pending = false;
  h.db.read("shop", [&](state::ConnectionTxn& t) { any_pending = t.is_pending("C"); });
  CHECK(any_pending);
}

TEST_CASE("reconfigure swaps connectors, the run in flight keeps the ones it started with") {
  Harness h;
  auto other_store = std::make_shared<pb::test::MemoryStore>();
  auto other_warehouse = std::make_shared<pb::test::MemoryWarehouse>();
  other_warehouse->feed = pb::test::make_feed({{"A", 1}});
  auto cfg = h.runner->config();
  cfg.inventory.buffer = 1;
  // Reconfigure while the first run is pushing to the old store. The runner
  // drops the old store once that run ends: count its pushes from inside.
  int old_store_pushes = 0;
  h.store->on_push = [&] {
    ++old_store_pushes;
    h.runner->reconfigure(cfg, other_warehouse, other_store);
  };
  h.runner->request(SyncKind::full, Trigger::manual);
  h.run_until([&] { return h.runner->finished(1); });
  CHECK(old_store_pushes == 1);  // the first run finished against the old store
  CHECK(other_store->calls.empty());
  const auto next = h.runner->request(SyncKind::smart, Trigger::manual);
  h.run_until([&] { return h.runner->finished(next.run_id); });
  REQUIRE(other_store->calls.size() == 1);
  CHECK(other_store->quantities.at("A") == 0);  // 1 minus the new buffer of 1
  CHECK(h.runner->config().inventory.buffer == 1);
}

TEST_CASE("a run stopped while it waits for a sync slot ends without reading its feed") {
  Harness h;
  bool held = false;  // every slot, by another connection's runs
  asio::co_spawn(
      h.io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 4; ++i) co_await h.slots.acquire();
        held = true;
      },
      asio::detached);
  h.run_until([&] { return held; });
  const auto ticket = h.runner->request(SyncKind::full, Trigger::manual);
  h.io.restart();
  h.io.run_for(std::chrono::milliseconds(20));
  REQUIRE(h.runner->current() != nullptr);
  CHECK(h.runner->current()->phase == RunPhase::queued);

  h.runner->stop();  // beed is stopping
  for (int i = 0; i < 4; ++i) h.slots.release();
  h.run_until([&] { return !h.runner->syncing(); });
  CHECK(h.warehouse->reads == 0);
  CHECK(h.store->calls.empty());
  const auto runs = h.runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].id == ticket.run_id);
  CHECK(runs[0].result == RunResult::failed);
  CHECK(runs[0].error.find("stopped: beed is shutting down") == 0);
}

namespace {

struct HookRun {
  std::string run;
  long long start = 0, end = 0;  // ns
};

// The lines the hook below wrote: "start <ns> <run>" and "end <ns> <run>".
std::vector<HookRun> hook_runs(const std::filesystem::path& log) {
  std::vector<HookRun> runs;
  std::ifstream in(log);
  std::string what, run;
  long long at = 0;
  while (in >> what >> at >> run) {
    if (what == "start") runs.push_back({run, at, 0});
    for (auto& r : runs)
      if (what == "end" && r.run == run && r.end == 0) r.end = at;
  }
  return runs;
}

}  // namespace

TEST_CASE("failures in quick succession run one hook at a time, the waiting one coalesced") {
  Harness h;
  const auto log = h.dir.path() / "hooks.log";
  auto cfg = h.runner->config();
  cfg.on_failure.command = {"/bin/sh", "-c",
                            "echo start $(date +%s%N) $PACKAGEBEE_RUN >> '" + log.string() +
                                "'; sleep 0.4; echo end $(date +%s%N) $PACKAGEBEE_RUN >> '" +
                                log.string() + "'"};
  h.runner->reconfigure(cfg, h.runner->warehouse(), h.runner->store());
  h.warehouse->fail = true;
  // Three failed runs while the first one's hook still sleeps.
  for (int i = 0; i < 3; ++i) {
    const auto ticket = h.runner->request(SyncKind::smart, Trigger::manual);
    h.run_until([&] { return h.runner->finished(ticket.run_id); });
  }
  h.run_until([&] {
    const auto runs = hook_runs(log);
    return runs.size() >= 2 && runs[1].end != 0;
  });
  // Long enough for a third hook, if one were (wrongly) started, to show.
  h.io.restart();
  h.io.run_for(std::chrono::milliseconds(600));
  const auto runs = hook_runs(log);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].run == "1");
  CHECK(runs[1].run == "3");  // run 2's summary was replaced by run 3's, the latest
  CHECK(runs[0].end != 0);
  CHECK(runs[1].start >= runs[0].end);  // never two at once
}

TEST_CASE("a runner revived while its run is in flight queues the next run behind it") {
  Harness h;
  std::shared_ptr<ConnectionRunner> runner = h.runner;
  bool revived = false;
  RunTicket during{};
  h.store->batch_limit = 1;
  h.store->on_push = [&] {
    if (revived) return;
    revived = true;
    runner->stop(false);  // removed by a reload: the run goes on
    runner->revive(runner->config(), runner->warehouse(), runner->store());  // added back
    during = runner->request(SyncKind::smart, Trigger::manual);
  };
  const auto first = runner->request(SyncKind::full, Trigger::manual);
  h.run_until([&] { return revived && runner->finished(during.run_id); });
  CHECK(during.queued);
  CHECK(during.run_id == first.run_id + 1);
  const auto runs = h.runs();
  REQUIRE(runs.size() == 2);
  CHECK(runs[1].result == RunResult::ok);  // the first run was not cancelled
  CHECK(runs[0].started_at >= runs[1].finished_at);
}
