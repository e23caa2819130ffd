// The JSON BigCommerce's Inventory API reads and writes (REST v3, reference/inventory.v3.yml):
// the absolute-adjustment request body, a problem+json error, a page of inventory items.
// Pure functions, unit-tested on their own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "connectors/store/store.hpp"

namespace pb::connectors::bigcommerce {

// {"reason": REASON, "items": [{"location_id": L, "sku": S, "quantity": Q}, ...]}
std::string adjustment_body(std::string_view reason, std::int64_t location_id,
                            std::span<const PushItem> items);

// An application/problem+json answer: {status, title, type, errors: {field: message}}.
struct Problem {
  std::int64_t status = 0;
  std::string title;
  std::string type;
  std::vector<std::pair<std::string, std::string>> errors;  // in the order sent
};

// nullopt when `body` is not a JSON object with at least a title or errors.
std::optional<Problem> parse_problem(std::string_view body);

// "TITLE (FIELD: MESSAGE; ...)", cut to a length fit for a log line and `beectl status`.
std::string describe_problem(const Problem& problem);

// One page of GET /v3/inventory/items: each item's SKU with its id, and the paging meta.
struct ItemsPage {
  // SKU -> "v<variant_id>" or "p<product_id>"; items without a SKU are left out (the
  // connector names items by SKU).
  std::vector<std::pair<std::string, std::string>> items;
  std::size_t count = 0;         // items on the page, with or without a SKU
  std::size_t current_page = 0;  // meta.pagination.current_page (0: absent)
  std::size_t total_pages = 0;   // meta.pagination.total_pages (0: absent)
  std::size_t total = 0;         // meta.pagination.total, items on all pages (0: absent)
};

// nullopt when `body` is not {"data": [...], ...}.
std::optional<ItemsPage> parse_items_page(const boost::json::value& body);

}  // namespace pb::connectors::bigcommerce
