// Builds the connectors of one connection: its warehouses seen as one
// (ConnectionSources, with the inventory rules) and its store. The runner is
// handed them; beed builds them here both at start and on a reload, so both
// get the same wiring.
#pragma once

#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "config/config.hpp"
#include "connectors/store/store.hpp"
#include "connectors/warehouse/warehouse.hpp"
#include "state/inventory_db.hpp"
#include "sync/sync_observer.hpp"

namespace pb::sync {

struct ConnectionConnectors {
  std::shared_ptr<connectors::Warehouse> warehouse;
  std::shared_ptr<connectors::Store> store;
};

// `loop` is where the store does its network I/O; `db` keeps the store's id
// caches (null: they live in memory); `observer`, if any, sees the store's HTTP
// exchanges. Throws what a connector's constructor throws: nothing is built then.
ConnectionConnectors build_connectors(const config::ConnectionConfig& config,
                                      boost::asio::any_io_executor loop, state::InventoryDb* db,
                                      SyncObserver* observer = nullptr);

}  // namespace pb::sync
