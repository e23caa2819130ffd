// All the warehouses of one connection seen as one: reads each, then projects their feeds onto
// the store's SKUs (projection.hpp). The engine, `beectl diff` and the tests use it as they
// would a single warehouse, so the rules apply the same everywhere.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "connectors/warehouse/warehouse.hpp"
#include "sync/projection.hpp"

namespace pb::sync {

class ConnectionSources : public connectors::Warehouse {
 public:
  // Builds a connector for each configured warehouse (throws what make_warehouse throws).
  explicit ConnectionSources(const config::ConnectionConfig& config);
  // With the given connectors, one per configured warehouse, in order (for tests).
  ConnectionSources(const config::ConnectionConfig& config,
                    std::vector<std::shared_ptr<connectors::Warehouse>> warehouses);

  // Reads every warehouse; any failure fails the whole read, so a run never pushes a sum that
  // lacks a warehouse. Problems of a connection with several warehouses name the one they
  // came from.
  boost::asio::awaitable<connectors::Feed> read(boost::asio::any_io_executor pool,
                                                connectors::ReadRequest request) override;
  std::string describe() const override;
  // Remembered when the store's figures follow the one warehouse row by row (no sums, no
  // bundles): then an unchanged feed or an incremental one can be applied alone.
  std::string remembered_as() const override;
  std::string fingerprint() const override;

 private:
  std::vector<std::string> names_;
  std::vector<std::shared_ptr<connectors::Warehouse>> warehouses_;
  Projection projection_;
  std::string fingerprint_;
};

}  // namespace pb::sync
