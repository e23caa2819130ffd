#include "sync/sync_run.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

#include "async/offload.hpp"
#include "log/log.hpp"
#include "sync/batch_planner.hpp"
#include "sync/batch_push.hpp"
#include "sync/change_detector.hpp"
#include "sync/change_detector_digest.hpp"
#include "sync/digest_sieve.hpp"
#include "sync/phase_clock.hpp"
#include "sync/run_records.hpp"

namespace pb::sync {
namespace asio = boost::asio;
using connectors::PushItem;

std::string_view to_string(RunPhase phase) {
  switch (phase) {
    case RunPhase::queued:
      return "queued";
    case RunPhase::reading:
      return "reading";
    case RunPhase::detecting:
      return "detecting";
    case RunPhase::mapping:
      return "mapping";
    case RunPhase::pushing:
      return "pushing";
    case RunPhase::recording:
      return "recording";
  }
  return "?";
}

namespace {

constexpr std::size_t kProblemsLogged = 20;
// A recorded batch at least this big gives its LMDB pages back at once (Env::release_pages).
constexpr std::size_t kReleaseAfter = 50'000;
constexpr std::string_view kStopped =
    "stopped: beed is shutting down (unconfirmed SKUs stay pending for the next run)";

void log_feed_problems(const log::Fields& fields, const connectors::Feed& feed) {
  for (std::size_t i = 0; i < feed.problems.size() && i < kProblemsLogged; ++i) {
    const auto& p = feed.problems[i];
    log::warn(fields, "run {}: {} line {}: {}", fields.run, feed.origin, p.line, p.message);
  }
  if (feed.problems.size() > kProblemsLogged)
    log::warn(fields, "run {}: {} more bad rows in {}", fields.run,
              feed.problems.size() - kProblemsLogged, feed.origin);
}

// What the phases of one run share. Lives in execute_run's frame, on the loop.
struct RunContext {
  const RunEnvironment& env;
  const std::string& connection;
  const Rules& rules;
  RunControl& control;
  state::RunRecord& run;
  log::Fields fields;
  std::string reference;  // "connection/run": names the run in the store's requests
  // Under which name the source remembers its last read (Warehouse::remembered_as), and the
  // configuration that memory is valid for (Warehouse::fingerprint).
  std::string memory{};
  std::string fingerprint{};
  std::string first_problem{};  // the first bad row or unconfirmed SKU: a partial run's note
  SievedRead sieved{};          // what the feed's dropped rows were (digest_sieve.hpp)
  PhaseClock clock{};
};

void stop_if_cancelled(const RunContext& ctx) {
  if (ctx.control.cancel_requested()) throw std::runtime_error(std::string(kStopped));
}

// A batch a previous run left unrecorded: its SKUs become in doubt first.
asio::awaitable<void> recover_unrecorded_batch(RunContext& ctx) {
  const auto& env = ctx.env;
  const auto doubtful =
      co_await async::offload(env.pool, [&] { return recover_in_flight(env.db, ctx.connection); });
  if (doubtful > 0)
    log::warn(ctx.fields,
              "run {}: a previous push of {} SKUs may have reached the store unrecorded; they "
              "will be pushed again",
              ctx.run.id, doubtful);
}

// Phase 1. What the source said last time, if its rows are committed and its configuration is
// the same, goes with the request: an unchanged feed then costs one request, an incremental one
// sends only the changes. A Full Sync always reads everything.
asio::awaitable<connectors::Feed> read_feed(RunContext& ctx) {
  const auto& env = ctx.env;
  auto& run = ctx.run;
  ctx.control.progress.phase = RunPhase::reading;
  ctx.memory = env.warehouse.remembered_as();
  ctx.fingerprint = env.warehouse.fingerprint();
  connectors::ReadRequest request{run.kind, {}, {}, ctx.control.read_stop()};
  if (!ctx.memory.empty() && run.kind == SyncKind::smart) {
    const auto last = co_await async::offload(env.pool, [&] {
      return last_source_read(env.db, ctx.connection, ctx.memory, ctx.fingerprint);
    });
    if (last) {
      request.validator = last->validator;
      request.cursor = last->cursor;
    }
  }
  // The last feed's digest sieves out the rows it holds as they are (a reader that can does).
  auto sieve = sieve_for(ctx.control.feed_digest, ctx.rules);
  auto feed =
      co_await read_through(env.warehouse, env.pool, request, sieve, ctx.fields, ctx.sieved);
  run.read = feed.rows.size() + feed.sieved;
  run.bad_rows = feed.problems.size();
  log_feed_problems(ctx.fields, feed);
  if (!feed.problems.empty())
    ctx.first_problem = feed.origin + " line " + std::to_string(feed.problems.front().line) + ": " +
                        feed.problems.front().message;
  if (feed.unchanged)
    log::info(ctx.fields, "run {}: {} is unchanged since the last read", run.id, feed.origin);
  else if (feed.delta)
    log::info(ctx.fields, "run {}: {} sent {} changed rows since {}", run.id, feed.origin,
              feed.rows.size(), request.cursor);
  co_return std::move(feed);
}

// What the change detector made of a feed, and whether it looked for stale SKUs on the way.
struct Detection {
  DetectResult counts;
  std::optional<UnixMillis> stale_checked_at;
  std::shared_ptr<FeedDigest> digest;      // for the next feed; null: the next one merges all
  std::optional<std::size_t> differences;  // set when the feed was compared with a digest
};

// Blocking. The digest's fast path, in the order that keeps memory low: the differences (few),
// then the feed's rows go (the 1M rows are ~46 MB), then the new digest is the old one patched
// with the differences, and only then LMDB. A refused or failed write leaves no digest: the
// next feed merges all.
void apply_with_digest(state::InventoryDb& db, std::string_view connection, connectors::Feed& feed,
                       const Rules& rules, UnixMillis now, bool allow_zeroing,
                       std::shared_ptr<FeedDigest> digest, std::shared_ptr<DigestSieve> sieve,
                       Detection& out) {
  auto lines = sieve ? sieve->take_lines() : std::nullopt;  // this feed's, for the next read
  const auto diffs = differences_of(feed, *digest, std::move(sieve));  // the sieve lets go
  out.differences = diffs.size();
  const auto rows = feed.rows.size() + feed.sieved;
  feed.rows = {};
  const Totals base{digest->listed, digest->in_stock};
  const std::size_t old_size = digest->size();
  std::shared_ptr<FeedDigest> next;
  if (diffs.empty()) {
    // The old lines hold as well (the same rows); the new ones are as they now stand.
    if (auto settled = settle_lines(std::move(lines), old_size, diffs, *digest))
      digest->lines = std::move(settled);
    out.digest = std::move(digest);
  } else if (requantify_in_place(*digest, diffs)) {  // the run owns it (from RunControl)
    digest->lines = settle_lines(std::move(lines), old_size, diffs, *digest);
    next = std::move(digest);
  } else {
    next = patch_digest(*std::exchange(digest, nullptr), diffs, rules);
    if (next) next->lines = settle_lines(std::move(lines), old_size, diffs, *next);
  }
  out.counts =
      apply_differences(db, connection, diffs, rows, feed.origin, rules, base, now, allow_zeroing);
  if (next) {
    next->listed = out.counts.listed;
    next->in_stock = out.counts.in_stock;
    out.digest = std::move(next);
  }
}

// Blocking. Merges `feed` into the stored items (nothing to merge when it is unchanged). A
// delta does not pass the SKUs nobody changed: it looks for stale ones now and then, at most
// daily after `last_stale_check`.
void apply_changes(state::InventoryDb& db, std::string_view connection, connectors::Feed& feed,
                   const Rules& rules, UnixMillis last_stale_check, UnixMillis now,
                   bool allow_zeroing, std::shared_ptr<FeedDigest> digest,
                   std::shared_ptr<DigestSieve> sieve, Detection& out) {
  // A digest stays good only through an unchanged feed: a delta or a failed write leaves it
  // null (set before each write, so an exception leaves it so).
  bool walked = false;  // every stored SKU was passed, stale ones marked on the way
  if (feed.unchanged) {
    out.digest = digest;
    out.counts.pending = count_pending(db, connection);
  } else if (feed.delta) {
    out.counts = apply_delta(db, connection, feed, rules, now);
  } else if (digest_applies(digest.get(), feed, rules)) {
    apply_with_digest(db, connection, feed, rules, now, allow_zeroing, std::move(digest),
                      std::move(sieve), out);
  } else {
    // Unreachable with dropped rows (read_feed reads those feeds again); never merge a part.
    if (feed.sieved > 0) throw std::logic_error("a sieved feed without its digest");
    digest.reset();
    out.counts = apply_feed(db, connection, feed, rules, now, allow_zeroing);
    out.digest = make_digest(feed, rules);
    if (out.digest) {
      out.digest->listed = out.counts.listed;
      out.digest->in_stock = out.counts.in_stock;
    }
    out.stale_checked_at = now;  // it checked on its way
    walked = true;
  }
  constexpr UnixMillis kDay = 86'400'000;
  const UnixMillis every = std::min(kDay, std::max<UnixMillis>(rules.repush_after, 1));
  if (!walked && rules.repush_after > 0 && now - last_stale_check >= every) {
    out.counts.stale = mark_stale(db, connection, rules, now);
    out.counts.pending += out.counts.stale;
    out.stale_checked_at = now;
  }
}

// Phase 2: the feed into the stored items and the change index, then into the source's memory
// (only now that the rows it stands for are committed). Frees the feed on the pool.
asio::awaitable<void> detect_changes(RunContext& ctx, connectors::Feed& feed) {
  const auto& env = ctx.env;
  auto& run = ctx.run;
  ctx.control.progress.phase = RunPhase::detecting;
  // The pool works on copies and on `detected`, a local read only once the offload is over:
  // the control is the loop's alone.
  const auto last_stale_check = ctx.control.last_stale_check;
  const bool allow_zeroing = ctx.control.allow_zeroing;
  // Taken, not copied: a run that fails before it hands one back leaves none.
  auto digest = std::move(ctx.control.feed_digest);
  auto sieve = std::move(ctx.sieved.sieve);
  if (allow_zeroing)
    log::warn(ctx.fields, "run {}: the zeroing guard is off for this run (--allow-zeroing)",
              run.id);
  Detection detected;
  std::exception_ptr failure;
  co_await async::offload(env.pool, [&] {
    try {
      const auto now = now_millis();
      apply_changes(env.db, ctx.connection, feed, ctx.rules, last_stale_check, now, allow_zeroing,
                    std::move(digest), std::move(sieve), detected);
      remember_source_read(env.db, ctx.connection, ctx.memory, ctx.fingerprint, feed, now);
    } catch (const ApplyFailed& e) {
      detected.counts = e.committed();  // what the failed write left committed
      failure = std::current_exception();
    } catch (...) {
      failure = std::current_exception();
    }
    feed = connectors::Feed{};  // free it on the pool, not on the loop
  });
  if (detected.differences)
    log::debug(ctx.fields, "run {}: {} SKUs differ from the last feed's digest", run.id,
               *detected.differences);
  // The run's own until stored: a source writing duplicates spoils every sieve.
  if (ctx.sieved.spoiled && detected.digest) detected.digest->sieve = false;
  ctx.control.feed_digest = std::move(detected.digest);
  // Kept even when a later step failed: the stale SKUs it marked stay marked.
  if (detected.stale_checked_at) ctx.control.last_stale_check = *detected.stale_checked_at;
  // Set before a failure too: the record tells how many SKUs the run did change.
  run.changed = detected.counts.changed;
  if (failure) std::rethrow_exception(failure);
  if (detected.counts.stale > 0)
    log::info(ctx.fields,
              "run {}: {} SKUs were last confirmed longer ago than repush_after; pushing them "
              "again",
              run.id, detected.counts.stale);
  ctx.control.progress.total =
      run.kind == SyncKind::full ? detected.counts.listed : detected.counts.pending;
}

// Where a store's catalogue walk shows: the run's progress, as phase mapping. On the loop.
class RunMappingProgress final : public connectors::MappingProgress {
 public:
  explicit RunMappingProgress(RunProgress& progress) : progress_(progress) {}
  void mapping(std::uint64_t mapped, std::uint64_t total) override {
    progress_.phase = RunPhase::mapping;
    progress_.mapped = mapped;
    progress_.mapping_total = total;
  }
  void mapping_done() override { progress_.phase = RunPhase::pushing; }

 private:
  RunProgress& progress_;
};

// Credentials and id caches, once per run and only when there is work. The store may walk its
// catalogue meanwhile: it shows as phase mapping, and a stop ends it (the read's stop flag).
asio::awaitable<void> prepare_store(RunContext& ctx) {
  RunMappingProgress sink(ctx.control.progress);
  connectors::PushContext context{ctx.env.pool, ctx.reference, &sink, ctx.control.read_stop()};
  try {
    co_await ctx.env.store.prepare(context);
  } catch (const connectors::StoreError& e) {
    ctx.control.progress.phase = RunPhase::pushing;
    throw std::runtime_error(std::string("store unavailable: ") + e.what());
  }
  ctx.control.progress.phase = RunPhase::pushing;
}

// Records the verdicts on `batch` in one transaction, notes the first SKU the store did not
// confirm, and frees the batch: all on the pool (a batch can hold a million items).
asio::awaitable<RecordCounts> record_batch(RunContext& ctx, std::vector<PushItem>& batch,
                                           BatchOutcome& outcome) {
  co_return co_await async::offload(ctx.env.pool, [&] {
    const auto full_sync_started =
        ctx.run.kind == SyncKind::full ? std::optional(ctx.run.started_at) : std::nullopt;
    auto recorded = record_verdicts(ctx.env.db, ctx.connection, batch, outcome.verdicts,
                                    now_millis(), full_sync_started);
    for (std::size_t i = 0; i < batch.size() && ctx.first_problem.empty(); ++i)
      if (outcome.verdicts[i].verdict != Verdict::confirmed)
        ctx.first_problem = batch[i].sku + ": " + outcome.verdicts[i].message;
    // A big batch walked a big part of the map: let it go from beed's RSS now rather than at
    // the run's end (the next batch's pages are others).
    if (batch.size() >= kReleaseAfter) ctx.env.db.env().release_pages();
    batch = {};
    outcome.verdicts = {};
    return recorded;
  });
}

// A run that went through its batches: ok, or partial with its first problem as the note.
void conclude(state::RunRecord& run, std::uint64_t failed_items, const std::string& first_problem) {
  if (run.result == RunResult::running) {
    const bool incomplete = run.rejected > 0 || failed_items > 0 || run.bad_rows > 0;
    run.result = incomplete ? RunResult::partial : RunResult::ok;
    if (run.result == RunResult::partial) run.error = first_problem;
  }
  // Not a rejection: the store never answered for these. Said in the error,
  // as the run record counts only pushed and rejected SKUs.
  if (failed_items > 0 && run.result == RunResult::partial)
    run.error += " (" + std::to_string(failed_items) + " SKUs got no answer and stay pending)";
}

// Phase 3: the change index (a Smart Sync) or every listed SKU (a Full Sync), in batches the
// store's size. Each batch is marked in flight before it is pushed and its verdicts recorded
// before the next is chosen, so a kill loses at most the answer to one batch.
asio::awaitable<void> push_batches(RunContext& ctx) {
  const auto& env = ctx.env;
  auto& run = ctx.run;
  ctx.control.progress.phase = RunPhase::pushing;
  const std::size_t max_batch = std::max<std::size_t>(1, env.store.max_batch());
  std::string after;
  bool prepared = false;
  std::uint64_t failed_items = 0;
  for (;;) {
    if (ctx.control.cancel_requested()) {
      run.result = RunResult::failed;
      run.error = kStopped;
      break;
    }
    auto batch = co_await async::offload(
        env.pool, [&] { return next_batch(env.db, ctx.connection, run.kind, after, max_batch); });
    if (batch.empty()) {
      if (run.kind == SyncKind::full)
        co_await async::offload(
            env.pool, [&] { complete_full_confirmation(env.db, ctx.connection, run.started_at); });
      break;
    }
    if (!prepared) {
      co_await prepare_store(ctx);
      prepared = true;
    }
    after = batch.back().sku;
    co_await async::offload(env.pool, [&] {
      mark_in_flight(env.db, ctx.connection, batch.front().sku, batch.back().sku);
    });
    const auto asked = PhaseClock::Clock::now();
    auto outcome = co_await push_with_retries(env, ctx.reference, ctx.fields, batch);
    ctx.clock.store +=
        std::chrono::duration<double, std::milli>(PhaseClock::Clock::now() - asked).count();
    const auto counts = co_await record_batch(ctx, batch, outcome);
    run.pushed += counts.confirmed;
    run.rejected += counts.rejected;
    failed_items += counts.failed;
    ctx.control.progress.pushed = run.pushed;
    ctx.control.progress.rejected = run.rejected;
    if (outcome.store_down) {
      run.result = RunResult::failed;
      run.error = "store unavailable: " + outcome.last_error;
      break;
    }
  }
  conclude(run, failed_items, ctx.first_problem);
}

// Phase 4: the run's result, and what it means for the connection.
asio::awaitable<void> record_run(RunContext& ctx) {
  auto& run = ctx.run;
  ctx.control.progress.phase = RunPhase::recording;
  run.finished_at = now_millis();
  const bool stopped = run.error == kStopped;
  co_await async::offload(ctx.env.pool, [&] {
    record_run_end(ctx.env.db, ctx.connection, run, stopped);
    // The memory the run leaves (the map's pages, LMDB's page pool) goes back once beed is
    // idle (sync/idle_memory_release.hpp), not here: the next run may follow at once.
  });
  auto& clock = ctx.clock;
  clock.lap(clock.record);
  log::debug(ctx.fields,
             "run {} took: read {:.1f} ms, detect {:.1f} ms, push {:.1f} ms (waiting for the "
             "store {:.1f} ms), record {:.1f} ms",
             run.id, clock.read, clock.detect, clock.push, clock.store, clock.record);
}

}  // namespace

asio::awaitable<state::RunRecord> execute_run(RunEnvironment env, std::string connection,
                                              Rules rules, state::RunRecord run,
                                              RunControl& control) {
  RunContext ctx{env,
                 connection,
                 rules,
                 control,
                 run,
                 {connection, to_string(run.kind), run.id},
                 connection + "/" + std::to_string(run.id)};
  try {
    co_await recover_unrecorded_batch(ctx);
    // A run stopped while it waited for its slot reads nothing.
    stop_if_cancelled(ctx);
    {
      // Scoped: the snapshot can be a million rows; it is gone before the
      // push phase, which works from LMDB alone.
      auto feed = co_await read_feed(ctx);
      ctx.clock.lap(ctx.clock.read);
      co_await detect_changes(ctx, feed);
      ctx.clock.lap(ctx.clock.detect);
    }
    stop_if_cancelled(ctx);
    co_await push_batches(ctx);
    ctx.clock.lap(ctx.clock.push);
  } catch (const std::exception& e) {
    auto& clock = ctx.clock;
    const auto phase = ctx.control.progress.phase;
    clock.lap(phase == RunPhase::reading     ? clock.read
              : phase == RunPhase::detecting ? clock.detect
                                             : clock.push);
    // Warehouse unreadable, feed refused, state error: nothing past the last
    // committed batch is marked confirmed, so the next run picks up from here.
    run.result = RunResult::failed;
    // A read cut short by the stop fails with the reader's words; it is a stop all the same,
    // and recorded as one, so the next start runs again at once.
    run.error = ctx.control.cancel_requested() ? std::string(kStopped) : e.what();
  }
  co_await record_run(ctx);
  co_return run;
}

}  // namespace pb::sync
