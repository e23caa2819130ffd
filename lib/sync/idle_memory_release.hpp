// Gives back the memory runs leave behind once beed is idle (issue 14: beed at rest, flat for
// weeks): LMDB's pool of dirty pages, the map's resident pages and glibc's free heap
// (lmdb::Env::release_memory). Not at the end of every run: runs that follow each other (a
// burst of on-demand syncs, many connections due together) would each fault in afresh what the
// last one just gave back, which cost a 1% Smart Sync of 1M SKUs a quarter of its time
// (0.34 -> 0.42 s). Used on the event loop only; the release itself runs on the pool.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace pb::sync {

class IdleMemoryRelease {
 public:
  // How long no run may be going before the memory goes back.
  static constexpr std::chrono::milliseconds kIdleAfter{1000};

  // `release` runs on `pool` once no run was going for `idle_after`; it may throw (logged).
  IdleMemoryRelease(boost::asio::any_io_executor loop, boost::asio::any_io_executor pool,
                    std::function<void()> release,
                    std::chrono::milliseconds idle_after = kIdleAfter);
  IdleMemoryRelease(const IdleMemoryRelease&) = delete;
  IdleMemoryRelease& operator=(const IdleMemoryRelease&) = delete;

  void run_started();
  void run_ended();
  // How many releases were started (for tests).
  std::uint64_t releases() const { return releases_; }

 private:
  boost::asio::any_io_executor pool_;
  std::function<void()> release_;
  std::chrono::milliseconds idle_after_;
  boost::asio::steady_timer timer_;
  std::size_t running_ = 0;
  std::uint64_t generation_ = 0;  // moves with every start and end: a stale timer does nothing
  std::uint64_t releases_ = 0;
};

}  // namespace pb::sync
