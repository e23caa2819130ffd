#include "sync/idle_memory_release.hpp"

#include <exception>
#include <utility>

#include <boost/asio/post.hpp>

#include "log/log.hpp"

namespace pb::sync {

IdleMemoryRelease::IdleMemoryRelease(boost::asio::any_io_executor loop,
                                     boost::asio::any_io_executor pool,
                                     std::function<void()> release,
                                     std::chrono::milliseconds idle_after)
    : pool_(std::move(pool)),
      release_(std::move(release)),
      idle_after_(idle_after),
      timer_(std::move(loop)) {}

void IdleMemoryRelease::run_started() {
  ++running_;
  ++generation_;
  timer_.cancel();
}

void IdleMemoryRelease::run_ended() {
  if (running_ > 0) --running_;
  ++generation_;
  if (running_ > 0) return;
  timer_.expires_after(idle_after_);
  timer_.async_wait([this, generation = generation_](const boost::system::error_code& ec) {
    // Cancelled (a run started, or beed is stopping and this object may be gone): nothing.
    if (ec || generation != generation_ || running_ > 0) return;
    ++releases_;
    boost::asio::post(pool_, [release = release_] {
      try {
        release();
      } catch (const std::exception& e) {
        log::error({}, "giving memory back after the runs failed: {}", e.what());
      }
    });
  });
}

}  // namespace pb::sync
