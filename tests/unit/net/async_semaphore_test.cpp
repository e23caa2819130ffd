// AsyncSemaphore: the limit holds, waiters go in order, a cancelled waiter leaves.
#include <algorithm>
#include <chrono>
#include <vector>

#include <doctest/doctest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "net/async_semaphore.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using pb::net::detail::AsyncSemaphore;
using pb::net::detail::SemaphorePermit;

TEST_CASE("at most N holders, and waiters are served first come, first served") {
  asio::io_context io;
  AsyncSemaphore semaphore(io.get_executor(), 2);
  int holding = 0, most = 0;
  std::vector<int> order;
  for (int i = 0; i < 6; ++i) {
    auto worker = [&, i]() -> asio::awaitable<void> {
      co_await semaphore.acquire();
      const SemaphorePermit permit(semaphore);
      order.push_back(i);
      most = std::max(most, ++holding);
      asio::steady_timer hold(io, 5ms);
      co_await hold.async_wait(asio::use_awaitable);
      --holding;
    };
    asio::co_spawn(io, worker, asio::detached);
  }
  io.run();
  CHECK(most == 2);
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5});
  CHECK(semaphore.free() == 2);
  CHECK(semaphore.waiting() == 0);
}

TEST_CASE("a cancelled waiter leaves the queue without taking a permit") {
  asio::io_context io;
  AsyncSemaphore semaphore(io.get_executor(), 1);
  asio::cancellation_signal cancel;
  // Holds the only permit until the test opens the gate.
  asio::steady_timer gate(io, asio::steady_timer::time_point::max());
  bool aborted = false, last_ran = false;
  auto holder = [&]() -> asio::awaitable<void> {
    co_await semaphore.acquire();
    const SemaphorePermit permit(semaphore);
    co_await gate.async_wait(asio::as_tuple(asio::use_awaitable));
  };
  auto cancelled = [&]() -> asio::awaitable<void> {
    try {
      co_await semaphore.acquire();
      semaphore.release();
    } catch (const boost::system::system_error& e) {
      aborted = e.code() == asio::error::operation_aborted;
    }
  };
  auto last = [&]() -> asio::awaitable<void> {
    co_await semaphore.acquire();
    const SemaphorePermit permit(semaphore);
    last_ran = true;
  };
  asio::co_spawn(io, holder, asio::detached);
  asio::co_spawn(io, cancelled, asio::bind_cancellation_slot(cancel.slot(), asio::detached));
  asio::co_spawn(io, last, asio::detached);
  while (io.poll() > 0) {
  }
  CHECK(semaphore.waiting() == 2);
  cancel.emit(asio::cancellation_type::terminal);
  while (io.poll() > 0) {
  }
  CHECK(aborted);
  CHECK(semaphore.waiting() == 1);
  CHECK_FALSE(last_ran);
  gate.cancel();
  io.run();
  CHECK(last_ran);
  CHECK(semaphore.free() == 1);
  CHECK(semaphore.waiting() == 0);
}
