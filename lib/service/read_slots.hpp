// A bound on the heavy reads (catalogue scans, diffs) beed runs at once, across
// all clients: a fair counting semaphore whose waiters give up after a while,
// so that a burst of readers queues for a short time and is then refused
// rather than piling up memory and pool time.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

namespace pb::service {

class ReadSlots {
 public:
  ReadSlots(boost::asio::any_io_executor executor, std::size_t slots)
      : executor_(std::move(executor)), free_(slots), slots_(slots) {}
  ReadSlots(const ReadSlots&) = delete;
  ReadSlots& operator=(const ReadSlots&) = delete;

  // Resumes holding a slot (true), or without one once `patience` has passed (false). Waiters
  // are served in the order they asked.
  boost::asio::awaitable<bool> acquire(std::chrono::milliseconds patience);
  // Hands the slot to the longest waiter, or frees it.
  void release();

  std::size_t slots() const { return slots_; }
  std::size_t free() const { return free_; }
  std::size_t waiting() const { return waiters_.size(); }

 private:
  struct Waiter {
    boost::asio::steady_timer wake;  // the deadline; release() cancels it to hand a slot over
    bool granted = false;
  };

  boost::asio::any_io_executor executor_;
  std::size_t free_;
  std::size_t slots_;
  std::list<Waiter*> waiters_;
};

// Holds a slot acquired from `slots` until destroyed.
class ReadSlot {
 public:
  explicit ReadSlot(ReadSlots& slots) : slots_(&slots) {}
  ~ReadSlot() { slots_->release(); }
  ReadSlot(const ReadSlot&) = delete;
  ReadSlot& operator=(const ReadSlot&) = delete;

 private:
  ReadSlots* slots_;
};

}  // namespace pb::service
