// A run's stopwatch (sync_run.cpp).
#pragma once

#include <chrono>

namespace pb::sync {

// Where a run's wall-clock time went, logged at debug level when it ends: what an operator (or a
// benchmark) looks at first when a run is slower than it was. `store` is the time spent waiting
// for the store's answers (and its retries), part of `push`; the rest of `push` is LMDB.
class PhaseClock {
 public:
  using Clock = std::chrono::steady_clock;
  void lap(double& into) {
    const auto now = Clock::now();
    into += std::chrono::duration<double, std::milli>(now - mark_).count();
    mark_ = now;
  }
  double read = 0, detect = 0, push = 0, store = 0, record = 0;

 private:
  Clock::time_point mark_ = Clock::now();
};

}  // namespace pb::sync
