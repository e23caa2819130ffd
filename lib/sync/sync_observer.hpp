// What the engine tells a monitor (beed's metrics) about the runs and the store requests of each
// connection. Called on the event loop; must not block: a monitor copies what it needs.
#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"
#include "net/exchange_observer.hpp"
#include "state/records.hpp"

namespace pb::sync {

class SyncObserver {
 public:
  virtual ~SyncObserver() = default;
  // A run ended and was recorded (any result).
  virtual void run_finished(const config::ConnectionConfig& connection,
                            const state::RunRecord& run) = 0;
  // Sees the HTTP exchanges of the store built for `connection`; null: none.
  virtual std::shared_ptr<net::ExchangeObserver> store_exchanges(
      const config::ConnectionConfig& connection) = 0;
};

}  // namespace pb::sync
