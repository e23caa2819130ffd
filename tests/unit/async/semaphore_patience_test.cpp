// Semaphore::try_acquire_for, as beed bounds its heavy reads: waiters in order, and a
// waiter whose patience ran out leaves without a permit.
#include <doctest/doctest.h>

#include <chrono>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "async/semaphore.hpp"

using namespace std::chrono_literals;
namespace asio = boost::asio;
using pb::async::Semaphore;

namespace {

// Takes a slot, records it, holds it for `hold`, gives it back.
asio::awaitable<void> reader(Semaphore& slots, int id, std::chrono::milliseconds patience,
                             std::chrono::milliseconds hold, std::vector<int>& got,
                             std::vector<int>& refused) {
  if (!co_await slots.try_acquire_for(patience)) {
    refused.push_back(id);
    co_return;
  }
  got.push_back(id);
  asio::steady_timer t(co_await asio::this_coro::executor, hold);
  co_await t.async_wait(asio::use_awaitable);
  slots.release();
}

}  // namespace

TEST_CASE("at most N readers at once, the others in turn") {
  asio::io_context io;
  Semaphore slots(io.get_executor(), 2);
  std::vector<int> got, refused;
  for (int id = 0; id < 5; ++id)
    asio::co_spawn(io, reader(slots, id, 5s, 100ms, got, refused), asio::detached);
  io.run_for(50ms);
  CHECK(slots.free() == 0);
  io.run();
  CHECK(got == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(refused.empty());
  CHECK(slots.free() == 2);
  CHECK(slots.waiting() == 0);
}

TEST_CASE("a reader whose patience runs out is refused and holds nothing") {
  asio::io_context io;
  Semaphore slots(io.get_executor(), 1);
  std::vector<int> got, refused;
  asio::co_spawn(io, reader(slots, 0, 1s, 300ms, got, refused), asio::detached);
  asio::co_spawn(io, reader(slots, 1, 50ms, 0ms, got, refused), asio::detached);
  asio::co_spawn(io, reader(slots, 2, 5s, 0ms, got, refused), asio::detached);
  io.run();
  CHECK(got == std::vector<int>{0, 2});
  CHECK(refused == std::vector<int>{1});
  CHECK(slots.free() == 1);
  CHECK(slots.waiting() == 0);
}
