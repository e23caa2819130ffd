// for_each_bounded: every index runs once, no more than `limit` at a time, and
// the first failure stops new tasks and reaches the caller.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>

#include "async/for_each_bounded.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using pb::async::for_each_bounded;
using pb::async::IndexedTask;

namespace {

struct Tally {
  std::vector<int> runs;  // how often each index ran
  int running = 0;
  int most = 0;
};

// Runs for_each_bounded to the end on a fresh loop; rethrows what it threw.
void run_bounded(std::size_t count, std::size_t limit, const IndexedTask& task) {
  asio::io_context io;
  auto done = asio::co_spawn(io, for_each_bounded(count, limit, task), asio::use_future);
  io.run();
  done.get();
}

IndexedTask counting(Tally& tally) {
  return [&tally](std::size_t i) -> asio::awaitable<void> {
    ++tally.runs[i];
    tally.most = std::max(tally.most, ++tally.running);
    asio::steady_timer pause(co_await asio::this_coro::executor, 2ms);
    co_await pause.async_wait(asio::use_awaitable);
    --tally.running;
  };
}

}  // namespace

TEST_CASE("every index runs once, at most `limit` at a time") {
  Tally tally;
  tally.runs.assign(10, 0);
  const IndexedTask task = counting(tally);
  run_bounded(10, 3, task);
  CHECK(tally.runs == std::vector<int>(10, 1));
  CHECK(tally.most == 3);
  CHECK(tally.running == 0);
}

TEST_CASE("a limit of 0 runs one at a time, a limit above the count all at once") {
  Tally one;
  one.runs.assign(4, 0);
  const IndexedTask one_task = counting(one);
  run_bounded(4, 0, one_task);
  CHECK(one.runs == std::vector<int>(4, 1));
  CHECK(one.most == 1);

  Tally all;
  all.runs.assign(4, 0);
  const IndexedTask all_task = counting(all);
  run_bounded(4, 100, all_task);
  CHECK(all.runs == std::vector<int>(4, 1));
  CHECK(all.most == 4);
}

TEST_CASE("no tasks, nothing runs") {
  bool ran = false;
  const IndexedTask task = [&ran](std::size_t) -> asio::awaitable<void> {
    ran = true;
    co_return;
  };
  run_bounded(0, 4, task);
  CHECK_FALSE(ran);
}

TEST_CASE("after a task throws no new task starts, and the first error is rethrown") {
  std::vector<std::size_t> started;
  const IndexedTask task = [&started](std::size_t i) -> asio::awaitable<void> {
    started.push_back(i);
    if (i == 1) throw std::runtime_error("first");
    if (i == 2) throw std::runtime_error("second");
    co_return;
  };
  CHECK_THROWS_WITH_AS(run_bounded(20, 1, task), "first", std::runtime_error);
  CHECK(started == std::vector<std::size_t>{0, 1});
}
