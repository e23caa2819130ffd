#include "sync/sync_run.hpp"

#include <algorithm>
#include <random>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "log/log.hpp"
#include "sync/batch_planner.hpp"
#include "sync/change_detector.hpp"
#include "sys/offload.hpp"

namespace pb::sync {
namespace asio = boost::asio;
using connectors::PushItem;
using connectors::PushOutcome;
using connectors::PushResult;

namespace {

constexpr std::size_t kProblemsLogged = 20;

std::chrono::milliseconds backoff_for(const RetryPolicy& policy, int attempt) {
  // Full jitter (AWS architecture blog): a uniform delay up to the exponential
  // bound, so runs of many connections retrying together spread out.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto bound = std::min<std::int64_t>(
      policy.max_backoff.count(),
      policy.initial_backoff.count() * (std::int64_t{1} << std::min(attempt, 20)));
  std::uniform_int_distribution<std::int64_t> pick(bound / 2, std::max<std::int64_t>(bound, 1));
  return std::chrono::milliseconds(pick(rng));
}

struct BatchOutcome {
  std::vector<ItemVerdict> verdicts;
  bool store_down = false;  // nothing in the batch got through after every attempt
  std::string last_error;
};

// Files the store's answers for the items in `todo` (positions in the batch)
// into `out`, and leaves in `todo` those to try again.
void classify(const std::vector<PushResult>& results, std::vector<std::size_t>& todo,
              BatchOutcome& out, bool& any_answer) {
  std::vector<std::size_t> again;
  for (std::size_t k = 0; k < todo.size(); ++k) {
    const auto i = todo[k];
    switch (results[k].outcome) {
      case PushOutcome::confirmed:
        out.verdicts[i] = {Verdict::confirmed, {}};
        any_answer = true;
        break;
      case PushOutcome::rejected:
        out.verdicts[i] = {Verdict::rejected, results[k].message};
        any_answer = true;
        break;
      case PushOutcome::transient:
        out.verdicts[i] = {Verdict::failed, results[k].message};
        out.last_error = results[k].message;
        again.push_back(i);
        break;
    }
  }
  todo = std::move(again);
}

// Pushes `batch`, retrying the transient part, and gives every item its verdict.
// A batch can hold a million items (the CSV store's cap): every per-item step
// here runs on the pool, so the loop keeps answering `beectl status` (the
// status_latency benchmark caught 300 ms stalls when it did not).
asio::awaitable<BatchOutcome> push_with_retries(const RunEnvironment& env,
                                                const std::string& reference,
                                                const log::Fields& fields,
                                                const std::vector<PushItem>& batch) {
  BatchOutcome out;
  std::vector<std::size_t> todo;
  bool any_answer = false;
  co_await sys::offload(env.pool, [&] {
    out.verdicts.assign(batch.size(), ItemVerdict{Verdict::failed, {}});
    todo.resize(batch.size());
    for (std::size_t i = 0; i < todo.size(); ++i) todo[i] = i;
  });

  int attempts_made = 0;
  for (int attempt = 1; !todo.empty(); ++attempt) {
    attempts_made = attempt;
    auto sub = co_await sys::offload(env.pool, [&] {
      std::vector<PushItem> items;
      items.reserve(todo.size());
      for (auto i : todo) items.push_back(batch[i]);
      return items;
    });
    std::vector<PushResult> results;
    std::string failure;
    bool final_failure = false;
    try {
      // Named, not a temporary: g++ 12 frees a class-type temporary passed to
      // a coroutine twice (seen under ASan here). Pass lvalues to coroutines.
      connectors::PushContext context{env.pool, reference};
      results = co_await env.store.push(std::move(sub), context);
      if (results.size() != todo.size())
        throw connectors::StoreError("store returned " + std::to_string(results.size()) +
                                     " results for " + std::to_string(todo.size()) + " items");
    } catch (const connectors::StoreError& e) {
      failure = e.what();
      // The connector retried over the network already, or no retry can mend it.
      if (!e.retry_in_run()) final_failure = true;
    }
    co_await sys::offload(env.pool, [&] {
      if (!failure.empty()) {
        results.assign(todo.size(), PushResult{PushOutcome::transient, failure});
        out.last_error = failure;
      }
      classify(results, todo, out, any_answer);
      results = {};  // freed here, not on the loop
    });
    if (todo.empty() || attempt >= env.retry.max_attempts || final_failure) break;
    const auto delay = backoff_for(env.retry, attempt - 1);
    log::warn(fields, "run {}: {} SKUs failed transiently ({}); retry {} of {} in {} ms",
              fields.run, todo.size(), out.last_error, attempt, env.retry.max_attempts - 1,
              delay.count());
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_await sys::offload(env.pool, [&] {
    for (auto i : todo)
      if (attempts_made > 1)
        out.verdicts[i].message = "gave up after " + std::to_string(attempts_made) +
                                  " attempts: " + out.verdicts[i].message;
  });
  out.store_down = !todo.empty() && !any_answer;
  co_return out;
}

void log_feed_problems(const log::Fields& fields, const connectors::Feed& feed) {
  for (std::size_t i = 0; i < feed.problems.size() && i < kProblemsLogged; ++i) {
    const auto& p = feed.problems[i];
    log::warn(fields, "run {}: {} line {}: {}", fields.run, feed.origin, p.line, p.message);
  }
  if (feed.problems.size() > kProblemsLogged)
    log::warn(fields, "run {}: {} more bad rows in {}", fields.run,
              feed.problems.size() - kProblemsLogged, feed.origin);
}

}  // namespace

asio::awaitable<state::RunRecord> execute_run(RunEnvironment env, std::string connection,
                                              Rules rules, state::RunRecord run,
                                              RunProgress& progress) {
  const std::string reference = connection + "/" + std::to_string(run.id);
  const log::Fields fields{connection, to_string(run.kind), run.id};
  std::string first_problem;
  const auto cancelled = [&] { return env.cancel != nullptr && *env.cancel; };
  constexpr std::string_view kStopped =
      "stopped: beed is shutting down (unconfirmed SKUs stay pending for the next run)";
  try {
    // A batch a previous run left unrecorded: its SKUs become in doubt first.
    const auto doubtful =
        co_await sys::offload(env.pool, [&] { return recover_in_flight(env.db, connection); });
    if (doubtful > 0)
      log::warn(fields,
                "run {}: a previous push of {} SKUs may have reached the store unrecorded; they "
                "will be pushed again",
                run.id, doubtful);

    progress.phase = "reading";
    {
      // Scoped: the snapshot can be a million rows; it is gone before the
      // push phase, which works from LMDB alone.
      // What the source said last time, if its rows are committed and its configuration is
      // the same: an unchanged feed then costs one request, an incremental one sends only
      // the changes. A Full Sync always reads everything.
      const auto memory = env.warehouse.remembered_as();
      const auto fingerprint = env.warehouse.fingerprint();
      connectors::ReadRequest request{run.kind, {}, {}};
      if (!memory.empty() && run.kind == SyncKind::smart) {
        const auto last = co_await sys::offload(env.pool, [&] {
          std::optional<state::SourceReadRecord> record;
          env.db.read(connection,
                      [&](state::ConnectionTxn& txn) { record = txn.source_read(memory); });
          return record;
        });
        if (last && last->fingerprint == fingerprint) {
          request.validator = last->validator;
          request.cursor = last->cursor;
        }
      }
      auto feed = co_await env.warehouse.read(env.pool, request);
      run.read = feed.rows.size();
      run.bad_rows = feed.problems.size();
      log_feed_problems(fields, feed);
      if (!feed.problems.empty())
        first_problem = feed.origin + " line " + std::to_string(feed.problems.front().line) + ": " +
                        feed.problems.front().message;

      progress.phase = "detecting";
      if (feed.unchanged)
        log::info(fields, "run {}: {} is unchanged since the last read", run.id, feed.origin);
      else if (feed.delta)
        log::info(fields, "run {}: {} sent {} changed rows since {}", run.id, feed.origin,
                  feed.rows.size(), request.cursor);
      const auto detected = co_await sys::offload(env.pool, [&] {
        DetectResult result;
        const auto now = now_millis();
        if (feed.unchanged) {
          env.db.read(connection, [&](state::ConnectionTxn& txn) {
            auto cursor = txn.pending_cursor();
            for (bool more = cursor.seek(); more; more = cursor.next()) ++result.pending;
          });
        } else if (feed.delta) {
          result = apply_delta(env.db, connection, feed, rules, now);
        } else {
          result = apply_feed(env.db, connection, feed, rules, now);
          if (env.last_stale_check) *env.last_stale_check = now;  // it checked on its way
        }
        // A delta does not pass the SKUs nobody changed: look for stale ones now and then.
        constexpr UnixMillis kDay = 86'400'000;
        const UnixMillis every = std::min(kDay, std::max<UnixMillis>(rules.repush_after, 1));
        if ((feed.delta || feed.unchanged) && rules.repush_after > 0 &&
            (!env.last_stale_check || now - *env.last_stale_check >= every)) {
          result.stale = mark_stale(env.db, connection, rules, now);
          result.pending += result.stale;
          if (env.last_stale_check) *env.last_stale_check = now;
        }
        // Remembered only now that the rows it stands for are committed: a kill before this
        // leaves the older memory, and the next read repeats these rows (harmless). Not after
        // a read with bad rows: the next read covers them again, so a fixed row is not
        // skipped by an incremental read or an unchanged validator.
        if (!memory.empty() && !feed.unchanged && feed.problems.empty() &&
            (!feed.validator.empty() || !feed.cursor.empty()))
          env.db.write(connection, [&](state::ConnectionTxn& txn) {
            txn.put_source_read(memory, {fingerprint, feed.validator, feed.cursor, now});
          });
        feed = connectors::Feed{};  // free it on the pool, not on the loop
        return result;
      });
      run.changed = detected.changed;
      if (detected.stale > 0)
        log::info(fields,
                  "run {}: {} SKUs were last confirmed longer ago than repush_after; pushing "
                  "them again",
                  run.id, detected.stale);
      progress.total = run.kind == SyncKind::full ? detected.listed : detected.pending;
    }

    if (cancelled()) throw std::runtime_error(std::string(kStopped));
    progress.phase = "pushing";
    const std::size_t max_batch = std::max<std::size_t>(1, env.store.max_batch());
    std::string after;
    bool prepared = false;
    std::uint64_t failed_items = 0;
    for (;;) {
      if (cancelled()) {
        run.result = RunResult::failed;
        run.error = kStopped;
        break;
      }
      auto batch = co_await sys::offload(
          env.pool, [&] { return next_batch(env.db, connection, run.kind, after, max_batch); });
      if (batch.empty()) break;
      if (!prepared) {
        // Credentials and id caches, once per run and only when there is work.
        connectors::PushContext context{env.pool, reference};
        try {
          co_await env.store.prepare(context);
        } catch (const connectors::StoreError& e) {
          throw std::runtime_error(std::string("store unavailable: ") + e.what());
        }
        prepared = true;
      }
      after = batch.back().sku;
      co_await sys::offload(env.pool, [&] {
        mark_in_flight(env.db, connection, batch.front().sku, batch.back().sku);
      });
      auto outcome = co_await push_with_retries(env, reference, fields, batch);
      const auto counts = co_await sys::offload(env.pool, [&] {
        auto recorded = record_verdicts(env.db, connection, batch, outcome.verdicts, now_millis());
        for (std::size_t i = 0; i < batch.size() && first_problem.empty(); ++i)
          if (outcome.verdicts[i].verdict != Verdict::confirmed)
            first_problem = batch[i].sku + ": " + outcome.verdicts[i].message;
        // A million-item batch is freed here rather than on the loop.
        batch = {};
        outcome.verdicts = {};
        return recorded;
      });
      run.pushed += counts.confirmed;
      run.rejected += counts.rejected;
      failed_items += counts.failed;
      progress.pushed = run.pushed;
      progress.rejected = run.rejected;
      if (outcome.store_down) {
        run.result = RunResult::failed;
        run.error = "store unavailable: " + outcome.last_error;
        break;
      }
    }
    if (run.result == RunResult::running) {
      const bool incomplete = run.rejected > 0 || failed_items > 0 || run.bad_rows > 0;
      run.result = incomplete ? RunResult::partial : RunResult::ok;
      if (run.result == RunResult::partial) run.error = first_problem;
    }
    // Not a rejection: the store never answered for these. Said in the error,
    // as the run record counts only pushed and rejected SKUs.
    if (failed_items > 0 && run.result == RunResult::partial)
      run.error += " (" + std::to_string(failed_items) + " SKUs got no answer and stay pending)";
  } catch (const std::exception& e) {
    // Warehouse unreadable, feed refused, state error: nothing past the last
    // committed batch is marked confirmed, so the next run picks up from here.
    run.result = RunResult::failed;
    run.error = e.what();
  }

  progress.phase = "recording";
  run.finished_at = now_millis();
  const bool stopped = run.error == kStopped;
  co_await sys::offload(env.pool, [&] {
    env.db.write(connection, [&](state::ConnectionTxn& txn) {
      txn.put_run(run);
      auto record = txn.connection();
      if (run.kind == SyncKind::full && run.result != RunResult::failed)
        record.last_full_ok_at = run.finished_at;
      // Cut short by a stop: the next start runs again at once, as after a
      // kill (its SKUs are still pending either way).
      if (stopped) record.next_due_at = 0;
      txn.put_connection(record);
    });
  });
  co_return run;
}

}  // namespace pb::sync
