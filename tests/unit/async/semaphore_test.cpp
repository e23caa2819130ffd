// Semaphore: the limit holds, waiters go in order, and a cancelled or destroyed
// waiter leaves the queue without a permit.
#include <algorithm>
#include <chrono>
#include <optional>
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

#include "async/semaphore.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using pb::async::Semaphore;
using pb::async::SemaphorePermit;

TEST_CASE("at most N holders, and waiters are served first come, first served") {
  asio::io_context io;
  Semaphore semaphore(io.get_executor(), 2);
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
  Semaphore semaphore(io.get_executor(), 1);
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

// The next release goes to the next live waiter: a cancelled wait neither holds
// a permit nor takes one handed over later.
TEST_CASE("a cancelled waiter gets no permit and does not swallow the next release") {
  asio::io_context io;
  Semaphore semaphore(io.get_executor(), 0);
  asio::cancellation_signal cancel;
  bool aborted = false, cancelled_got_permit = false, next_got_permit = false;
  auto cancelled = [&]() -> asio::awaitable<void> {
    try {
      co_await semaphore.acquire();
      cancelled_got_permit = true;
    } catch (const boost::system::system_error& e) {
      aborted = e.code() == asio::error::operation_aborted;
    }
  };
  auto next = [&]() -> asio::awaitable<void> {
    co_await semaphore.acquire();
    next_got_permit = true;  // keeps it: the count below shows where the permit went
  };
  asio::co_spawn(io, cancelled, asio::bind_cancellation_slot(cancel.slot(), asio::detached));
  asio::co_spawn(io, next, asio::detached);
  while (io.poll() > 0) {
  }
  REQUIRE(semaphore.waiting() == 2);
  cancel.emit(asio::cancellation_type::terminal);
  while (io.poll() > 0) {
  }
  CHECK(aborted);
  CHECK_FALSE(cancelled_got_permit);
  CHECK(semaphore.waiting() == 1);
  CHECK(semaphore.free() == 0);
  semaphore.release();  // exactly one permit: it must reach `next`
  io.run();
  CHECK(next_got_permit);
  CHECK_FALSE(cancelled_got_permit);
  CHECK(semaphore.waiting() == 0);
  CHECK(semaphore.free() == 0);
}

TEST_CASE("a waiter destroyed with its io_context leaves the queue without a permit") {
  std::optional<asio::io_context> io(std::in_place);
  Semaphore semaphore(io->get_executor(), 0);
  bool got_permit = false;
  auto waiter = [&]() -> asio::awaitable<void> {
    co_await semaphore.acquire();
    got_permit = true;
  };
  asio::co_spawn(*io, waiter, asio::detached);
  while (io->poll() > 0) {
  }
  REQUIRE(semaphore.waiting() == 1);
  io.reset();  // destroys the suspended coroutine without resuming it
  CHECK_FALSE(got_permit);
  CHECK(semaphore.waiting() == 0);
  // The permit released afterwards stays free rather than going to the dead waiter.
  semaphore.release();
  CHECK(semaphore.free() == 1);
  CHECK(semaphore.waiting() == 0);
}
