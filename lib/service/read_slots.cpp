#include "service/read_slots.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace pb::service {

boost::asio::awaitable<bool> ReadSlots::acquire(std::chrono::milliseconds patience) {
  if (free_ > 0 && waiters_.empty()) {
    --free_;
    co_return true;
  }
  Waiter waiter{boost::asio::steady_timer(executor_, patience)};
  const auto position = waiters_.insert(waiters_.end(), &waiter);
  // Leaves the queue however this frame ends, unless release() took it off already.
  struct Leave {
    ReadSlots& slots;
    Waiter& waiter;
    std::list<Waiter*>::iterator position;
    ~Leave() {
      if (!waiter.granted) slots.waiters_.erase(position);
    }
  } leave{*this, waiter, position};
  co_await waiter.wake.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  // `granted` decides, not how the wait ended: a hand-over that races with the deadline is
  // still a slot held, never a slot lost.
  co_return waiter.granted;
}

void ReadSlots::release() {
  if (waiters_.empty()) {
    ++free_;
    return;
  }
  Waiter* next = waiters_.front();
  waiters_.pop_front();
  next->granted = true;
  next->wake.cancel();
}

}  // namespace pb::service
