#include "sync/sync_slots.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace pb::sync {

boost::asio::awaitable<void> SyncSlots::acquire() {
  if (free_ > 0) {
    --free_;
    co_return;
  }
  auto timer = std::make_shared<boost::asio::steady_timer>(
      executor_, boost::asio::steady_timer::time_point::max());
  waiters_.push_back(timer);
  // Cancellation is the wake-up: the slot was handed over by release().
  co_await timer->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
}

void SyncSlots::release() {
  if (waiters_.empty()) {
    ++free_;
    return;
  }
  auto next = std::move(waiters_.front());
  waiters_.pop_front();
  next->cancel();
}

}  // namespace pb::sync
