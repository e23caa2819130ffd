#include "async/semaphore.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

namespace pb::async {

// The deadlines are named locals, not temporaries: g++ 12 mishandles a class-type temporary
// passed to a coroutine inside co_await (the project's known pitfall; it crashed here).
boost::asio::awaitable<void> Semaphore::acquire() {
  const auto never = boost::asio::steady_timer::time_point::max();
  const bool granted = co_await wait_turn(never);
  if (!granted)
    throw boost::system::system_error(boost::asio::error::operation_aborted, "waiting for a slot");
}

boost::asio::awaitable<bool> Semaphore::try_acquire_for(std::chrono::milliseconds patience) {
  const auto deadline = boost::asio::steady_timer::clock_type::now() + patience;
  const bool granted = co_await wait_turn(deadline);
  co_return granted;
}

boost::asio::awaitable<bool> Semaphore::wait_turn(
    const boost::asio::steady_timer::time_point& deadline) {
  // Queue behind earlier waiters even when a permit is free: release() hands permits
  // over directly, so a free permit with waiters only happens between two resumptions.
  if (free_ > 0 && waiters_.empty()) {
    --free_;
    co_return true;
  }
  Waiter waiter{boost::asio::steady_timer(executor_, deadline)};
  const auto position = waiters_.insert(waiters_.end(), &waiter);
  // Removes the waiter however this frame ends (cancelled, or destroyed with the
  // io_context) unless release() already took it off the queue.
  struct Leave {
    Semaphore& semaphore;
    Waiter& waiter;
    std::list<Waiter*>::iterator position;
    ~Leave() {
      if (!waiter.granted) semaphore.waiters_.erase(position);
    }
  } leave{*this, waiter, position};
  co_await waiter.wake.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  co_return waiter.granted;
}

void Semaphore::release() {
  if (waiters_.empty()) {
    ++free_;
    return;
  }
  Waiter* next = waiters_.front();
  waiters_.pop_front();
  next->granted = true;
  next->wake.cancel();
}

}  // namespace pb::async
