// Runs one sync run to its end on the test's thread: the engine tests' way to call execute_run.
#pragma once

#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "sync/sync_run.hpp"

namespace pb::test {

// Runs `record` (connection "shop") on `io` until it ends; the pool in `env` does the blocking
// parts. Returns the run's record as execute_run leaves it.
inline state::RunRecord run_to_end(boost::asio::io_context& io, const sync::RunEnvironment& env,
                                   const sync::Rules& rules, const state::RunRecord& record,
                                   sync::RunControl& control) {
  const std::string connection = "shop";  // an lvalue: see the note in sync_run.cpp
  auto fut = boost::asio::co_spawn(io, sync::execute_run(env, connection, rules, record, control),
                                   boost::asio::use_future);
  io.restart();
  io.run();
  return fut.get();
}

}  // namespace pb::test
