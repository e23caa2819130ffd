// Builds the connector a configuration names: the one place that knows every
// warehouse and store type. beed builds a connection's connectors through
// sync/connection_connectors.hpp, which calls these.
#pragma once

#include <memory>

#include "config/config.hpp"
#include "connectors/store/store.hpp"
#include "connectors/warehouse/warehouse.hpp"

namespace pb::connectors {

// Throws what the connector's constructor throws (a ca_file that cannot be loaded, ...).
std::unique_ptr<Warehouse> make_warehouse(const config::WarehouseConfig& config);
std::unique_ptr<Store> make_store(const config::StoreConfig& config, const StoreDeps& deps);

}  // namespace pb::connectors
