// The `type: postgres` warehouse: stock levels read with a configured query from a WMS or ERP
// database through libpq. The blocking work (postgres_reader.hpp) runs on the worker pool.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "connectors/warehouse/feed.hpp"
#include "connectors/warehouse/postgres/postgres_session.hpp"
#include "connectors/warehouse/warehouse.hpp"

namespace pb::connectors {

class PostgresWarehouse final : public Warehouse {
 public:
  explicit PostgresWarehouse(config::PostgresWarehouseConfig config) : config_(std::move(config)) {}

  boost::asio::awaitable<Feed> read(boost::asio::any_io_executor pool,
                                    ReadRequest request) override;

  // "postgres host=db dbname=wms": the conninfo, which never holds the password.
  std::string describe() const override;

 private:
  config::PostgresWarehouseConfig config_;
  // Shared with the read in flight, which may outlive this warehouse after a reload; the
  // connection closes when both are gone.
  std::shared_ptr<KeptConnection> kept_ = std::make_shared<KeptConnection>();
};

}  // namespace pb::connectors
