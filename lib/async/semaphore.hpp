// A fair counting semaphore for coroutines on one executor: waiters get the
// permits in the order they asked, and a cancelled or destroyed waiter leaves the
// queue without a permit (a cancellation is never mistaken for a hand-over).
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

namespace pb::async {

class Semaphore {
 public:
  Semaphore(boost::asio::any_io_executor executor, std::size_t permits)
      : executor_(std::move(executor)), free_(permits) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Resumes holding one permit. Throws boost::system::system_error(operation_aborted)
  // when the wait is cancelled, without a permit.
  boost::asio::awaitable<void> acquire();
  // Resumes holding one permit (true), or without one once `patience` has passed (false):
  // for callers that would rather refuse than queue for long (beed's heavy reads). Whether
  // a permit was handed over decides, not how the wait ended, so a hand-over that races
  // with the deadline is a permit held, never a permit lost.
  boost::asio::awaitable<bool> try_acquire_for(std::chrono::milliseconds patience);
  // Hands the permit to the longest waiter, or frees it.
  void release();

  std::size_t free() const { return free_; }
  std::size_t waiting() const { return waiters_.size(); }

 private:
  struct Waiter {
    boost::asio::steady_timer wake;  // expires at the waiter's deadline; release() cancels it
    bool granted = false;
  };
  // Waits in turn until a permit is handed over (true) or `deadline` passes (false).
  boost::asio::awaitable<bool> wait_turn(const boost::asio::steady_timer::time_point& deadline);

  boost::asio::any_io_executor executor_;
  std::size_t free_;
  std::list<Waiter*> waiters_;  // a list, so that a cancelled waiter can leave from the middle
};

// Holds a permit from construction to destruction.
class SemaphorePermit {
 public:
  explicit SemaphorePermit(Semaphore& semaphore) : semaphore_(&semaphore) {}
  ~SemaphorePermit() { semaphore_->release(); }
  SemaphorePermit(const SemaphorePermit&) = delete;
  SemaphorePermit& operator=(const SemaphorePermit&) = delete;

 private:
  Semaphore* semaphore_;
};

}  // namespace pb::async
