// Reading a warehouse connector in a test, and the request headers it sent.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "connectors/warehouse/warehouse.hpp"
#include "net/http_session.hpp"
#include "test_support.hpp"

namespace pb::test {

inline connectors::Feed read(connectors::Warehouse& warehouse,
                             connectors::ReadRequest request = {}) {
  return run_with_pool(
      [&](boost::asio::any_io_executor pool) { return warehouse.read(pool, request); });
}

// The message of the WarehouseError a read raises; fails the test if it does not.
inline std::string error_of(connectors::Warehouse& warehouse,
                            connectors::ReadRequest request = {}) {
  try {
    read(warehouse, request);
  } catch (const connectors::WarehouseError& e) {
    return e.what();
  }
  FAIL("expected a WarehouseError");
  return {};
}

inline const std::string* header(const net::Request& request, std::string_view name) {
  for (const auto& h : request.headers)
    if (h.name == name) return &h.value;
  return nullptr;
}

}  // namespace pb::test
