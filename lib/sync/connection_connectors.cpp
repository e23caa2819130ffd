#include "sync/connection_connectors.hpp"

#include "connectors/factory.hpp"
#include "sync/connection_sources.hpp"

namespace pb::sync {

ConnectionConnectors build_connectors(const config::ConnectionConfig& config,
                                      boost::asio::any_io_executor loop, state::InventoryDb* db) {
  const connectors::StoreDeps deps{std::move(loop), db, config.name};
  return {std::make_shared<ConnectionSources>(config), connectors::make_store(config.store, deps)};
}

}  // namespace pb::sync
