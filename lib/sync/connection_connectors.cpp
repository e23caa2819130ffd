#include "sync/connection_connectors.hpp"

#include "connectors/factory.hpp"
#include "state/lmdb_store_id_cache.hpp"
#include "sync/connection_sources.hpp"

namespace pb::sync {

ConnectionConnectors build_connectors(const config::ConnectionConfig& config,
                                      boost::asio::any_io_executor loop, state::InventoryDb* db,
                                      SyncObserver* observer) {
  connectors::StoreDeps deps{std::move(loop), {}, config.name, nullptr};
  if (db != nullptr) deps.id_caches = state::lmdb_store_id_caches(*db, config.name);
  if (observer != nullptr) deps.exchanges = observer->store_exchanges(config);
  return {std::make_shared<ConnectionSources>(config), connectors::make_store(config.store, deps)};
}

}  // namespace pb::sync
