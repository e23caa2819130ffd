// What the Medusa connector sends and what it reads back, as pure functions (no I/O): the
// Admin API queries (catalogue pages, SKU look-ups cut to the server's query limits), the
// location-level bodies, the replies and the error bodies. Unit-tested on their own.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "core/types.hpp"
#include "net/http_session.hpp"

namespace pb::connectors::medusa {

// An inventory item as the connector keeps it: its id, and whether it has a level (a row of
// stock) at the configured location. Without one, the level must be created, not updated: the
// per-item route answers 404 "not stocked at location" until it exists.
struct ItemRef {
  std::string id;  // "iitem_..."
  bool stocked = false;

  bool operator==(const ItemRef&) const = default;
};

using SkuItems = std::vector<std::pair<std::string, ItemRef>>;

// The id cache's value: "1iitem_..." (a level exists) or "0iitem_..."; "-" marks a SKU the
// store does not have (as of the last walk). decode_item is nullopt for "-" and for junk.
inline constexpr std::string_view kNotInStore = "-";
std::string encode_item(const ItemRef& item);
std::optional<ItemRef> decode_item(std::string_view text);

// Medusa's Express parser keeps the first 1,000 query parameters and drops the rest silently
// (`limit` and `fields` included), and a URL over 16 KB gets 431: look-ups stay well under both.
struct QueryLimits {
  std::size_t max_params = 500;
  std::size_t max_bytes = 8 * 1024;
};

// One page of the whole catalogue, in id order (stable while items are added), with only the
// fields the map needs.
std::string catalogue_query(std::size_t offset, std::size_t limit);

// The queries that look `skus` up (sku=A&sku=B..., percent-encoded), each within `limits`, the
// fixed parameters first so that a cut could never drop them. Every SKU is in exactly one query.
std::vector<std::string> lookup_queries(std::span<const std::string> skus,
                                        const QueryLimits& limits = {});

// A page of GET /admin/inventory-items: the items with a SKU, whether each has a level at
// `location_id`, and the server's total `count`. Throws std::runtime_error on a body that is
// not that shape.
struct InventoryPage {
  SkuItems items;
  std::size_t returned = 0;  // items on the page, with a SKU or not
  std::size_t count = 0;
};
InventoryPage parse_inventory_page(const boost::json::value& body, std::string_view location_id);

// One stocked_quantity to set: `create` when the item has no level at the location yet.
struct LevelWrite {
  std::string item_id;
  Quantity quantity = 0;
  bool create = false;
};

// POST /admin/inventory-items/location-levels/batch: {"create": [...], "update": [...],
// "delete": []}, each entry {inventory_item_id, location_id, stocked_quantity}.
std::string batch_body(std::span<const LevelWrite> writes, std::string_view location_id);
// The per-item routes: POST .../{id}/location-levels/{location} takes {"stocked_quantity"}, and
// POST .../{id}/location-levels (a new level) takes {"location_id", "stocked_quantity"}.
std::string level_update_body(Quantity quantity);
std::string level_create_body(std::string_view location_id, Quantity quantity);

// Whether the batch reply's `created` and `updated` levels hold every write's quantity at the
// location; the first mismatch, said in words, when not.
std::optional<std::string> check_batch_reply(const boost::json::value& body,
                                             std::span<const LevelWrite> writes,
                                             std::string_view location_id);
// Whether a per-item reply ({"inventory_item": {..., "location_levels": [...]}}) shows the
// quantity at the location.
std::optional<std::string> check_item_reply(const boost::json::value& body, const LevelWrite& write,
                                            std::string_view location_id);

// "HTTP 404 not_found: Inventory item with id: iitem_x was not found" from Medusa's error body
// ({"type", "message"}; a 401 has only "message"); "HTTP 502" when the body is not one (a
// proxy's page). Cut to a length fit for logs.
std::string describe_error(const net::Response& response);

// A 404 that Express gave because no route matched (an HTML "Cannot POST" page), not Medusa's
// JSON not_found about an item: the server predates the batch route.
bool route_missing(const net::Response& response);

// An answer about the items sent (bad data, an item or level that is not there, a conflict):
// the all-or-nothing batch is split to find the item it is about.
bool is_refusal(unsigned status);

}  // namespace pb::connectors::medusa
