// A counting semaphore on the event loop: at most `max_concurrent_syncs` runs
// read feeds and push at once, whatever the number of connections.
#pragma once

#include <deque>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

namespace pb::sync {

class SyncSlots {
 public:
  SyncSlots(boost::asio::any_io_executor executor, unsigned slots)
      : executor_(std::move(executor)), free_(slots) {}

  boost::asio::awaitable<void> acquire();
  // Hands the slot to the longest waiter, or frees it.
  void release();

 private:
  boost::asio::any_io_executor executor_;
  unsigned free_;
  // A waiter sleeps on a timer that never expires; release() cancels it.
  std::deque<std::shared_ptr<boost::asio::steady_timer>> waiters_;
};

}  // namespace pb::sync
