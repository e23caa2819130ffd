// The memory runs leave goes back only once no run has gone for a while: never between runs
// that follow each other, once after the last.
#include "sync/idle_memory_release.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>

#include <boost/asio/io_context.hpp>

using namespace std::chrono_literals;
using pb::sync::IdleMemoryRelease;

namespace {

// The "pool" is a second io_context, run after the loop: what the release posted runs then.
struct Fixture {
  boost::asio::io_context io;
  boost::asio::io_context pool;
  int released = 0;
  IdleMemoryRelease idle{io.get_executor(), pool.get_executor(), [this] { ++released; }, 50ms};

  void pass(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
    pool.restart();
    pool.poll();
  }
};

}  // namespace

TEST_CASE("idle memory release: once, after the last run, when the loop was idle long enough") {
  Fixture f;
  f.idle.run_started();
  f.idle.run_ended();
  f.pass(20ms);
  CHECK(f.released == 0);  // not yet: a run may follow
  f.pass(80ms);
  CHECK(f.released == 1);
  f.pass(100ms);
  CHECK(f.released == 1);  // and not again without another run
}

TEST_CASE("idle memory release: a run starting within the delay puts it off") {
  Fixture f;
  f.idle.run_started();
  f.idle.run_ended();
  f.pass(20ms);
  f.idle.run_started();  // back to back
  f.pass(100ms);
  CHECK(f.released == 0);
  f.idle.run_ended();
  f.pass(100ms);
  CHECK(f.released == 1);
}

TEST_CASE("idle memory release: overlapping runs, released only after both end") {
  Fixture f;
  f.idle.run_started();
  f.idle.run_started();
  f.idle.run_ended();
  f.pass(100ms);
  CHECK(f.released == 0);
  f.idle.run_ended();
  f.pass(100ms);
  CHECK(f.released == 1);
  CHECK(f.idle.releases() == 1);
}

TEST_CASE("idle memory release: a release that throws is logged and the next one still runs") {
  boost::asio::io_context io;
  boost::asio::io_context pool;
  int calls = 0;
  IdleMemoryRelease idle{io.get_executor(), pool.get_executor(),
                         [&calls] {
                           ++calls;
                           throw std::runtime_error("reopen failed");
                         },
                         10ms};
  for (int i = 0; i < 2; ++i) {
    idle.run_started();
    idle.run_ended();
    io.restart();
    io.run_for(60ms);
    pool.restart();
    pool.poll();
  }
  CHECK(calls == 2);
}
