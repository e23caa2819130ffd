#include "sync/batch_push.hpp"

#include <utility>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "async/backoff.hpp"
#include "async/offload.hpp"
#include "log/log.hpp"

namespace pb::sync {
namespace asio = boost::asio;
using connectors::PushItem;
using connectors::PushOutcome;
using connectors::PushResult;

namespace {

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

}  // namespace

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
  co_await async::offload(env.pool, [&] {
    out.verdicts.assign(batch.size(), ItemVerdict{Verdict::failed, {}});
    todo.resize(batch.size());
    for (std::size_t i = 0; i < todo.size(); ++i) todo[i] = i;
  });

  int attempts_made = 0;
  for (int attempt = 1; !todo.empty(); ++attempt) {
    attempts_made = attempt;
    auto sub = co_await async::offload(env.pool, [&] {
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
    co_await async::offload(env.pool, [&] {
      if (!failure.empty()) {
        results.assign(todo.size(), PushResult{PushOutcome::transient, failure});
        out.last_error = failure;
      }
      classify(results, todo, out, any_answer);
      results = {};  // freed here, not on the loop
    });
    if (todo.empty() || attempt >= env.retry.max_attempts || final_failure) break;
    const auto delay = async::backoff_delay(env.retry, attempt - 1);
    log::warn(fields, "run {}: {} SKUs failed transiently ({}); retry {} of {} in {} ms",
              fields.run, todo.size(), out.last_error, attempt, env.retry.max_attempts - 1,
              delay.count());
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_await async::offload(env.pool, [&] {
    for (auto i : todo)
      if (attempts_made > 1)
        out.verdicts[i].message = "gave up after " + std::to_string(attempts_made) +
                                  " attempts: " + out.verdicts[i].message;
  });
  out.store_down = !todo.empty() && !any_answer;
  co_return out;
}

}  // namespace pb::sync
