// The `type: http-json` warehouse: a REST endpoint answering pages of inventory items in JSON
// (json_pager.hpp walks the pages, json_feed_builder.hpp reads them on the worker pool). With
// updated_since_param, a Smart Sync asks only for the items changed since the newest updated_at
// of the last committed read, and returns a delta.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "connectors/warehouse/feed.hpp"
#include "connectors/warehouse/warehouse.hpp"
#include "net/http_session.hpp"

namespace pb::connectors {

class HttpJsonWarehouse final : public Warehouse {
 public:
  explicit HttpJsonWarehouse(config::HttpJsonWarehouseConfig config) : config_(std::move(config)) {}
  // Talks through `session` (tests) instead of a session of its own per read.
  HttpJsonWarehouse(config::HttpJsonWarehouseConfig config,
                    std::shared_ptr<net::HttpSession> session)
      : config_(std::move(config)), session_(std::move(session)) {}

  // Every page, one after the other. Feed::delta when the read was incremental (smart, a cursor
  // in `request`, updated_since_param configured); Feed::cursor is the newest updated_at seen,
  // as "YYYY-MM-DDTHH:MM:SSZ", or request.cursor when no item had one. Throws WarehouseError;
  // a read that fails on any page returns nothing.
  boost::asio::awaitable<Feed> read(boost::asio::any_io_executor pool,
                                    ReadRequest request) override;

  // "http-json https://api.example.com/v1/inventory" (no query: it may hold a key).
  std::string describe() const override;

 private:
  config::HttpJsonWarehouseConfig config_;
  std::shared_ptr<net::HttpSession> session_;
};

}  // namespace pb::connectors
