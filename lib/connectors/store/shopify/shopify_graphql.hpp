// The GraphQL documents the Shopify connector sends, the variables they take and
// what it reads back from the answers. No I/O here: the documents are constants
// (SKUs and ids travel only as variables, never spliced into a document), and
// the parsers take an already parsed JSON body, so all of it is testable alone.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/types.hpp"

namespace pb::connectors::shopify {

// Every inventory item's id and SKU, a page at a time ($cursor: null for the
// first page): all the map needs (the push names inventory items, never
// variants). 250 items at 1 point each plus the connection's 2: 252 points,
// half of a productVariants page that reaches the item through the variant
// (2 + 250 x 2 = 502). Needs the read_inventory (or read_products) scope.
extern const std::string_view kItemsPageQuery;
// The same selection, filtered by a search query ($query), $first at a time.
extern const std::string_view kItemsSearchQuery;
// The shop's id: a 1-point query that proves the token before a run that
// needs no catalogue walk (a refused token then fails the run in prepare(),
// with every SKU still pending). Needs no access scope.
extern const std::string_view kShopQuery;
// inventorySetQuantities with @idempotent(key: $key) and only userErrors
// selected: user errors cost nothing, so a call costs the mutation's base cost.
extern const std::string_view kSetQuantitiesMutation;

// The largest page Shopify serves, and the most quantities one call accepts
// (array inputs are capped at 250: MAX_INPUT_SIZE_EXCEEDED).
inline constexpr std::size_t kPageSize = 250;
inline constexpr std::size_t kMaxQuantitiesPerCall = 250;
// Shopify refuses quantities beyond this (INVALID_QUANTITY_TOO_HIGH / _LOW);
// larger values would not even fit GraphQL's 32-bit Int.
inline constexpr Quantity kMaxAbsQuantity = 1'000'000'000;

// {"query": ..., "variables": ...} as sent.
std::string request_body(std::string_view query, boost::json::object variables);

// ---- answers ------------------------------------------------------------------------------

// extensions.cost.throttleStatus
struct ThrottleStatus {
  double maximum_available = 0;
  double currently_available = 0;
  double restore_rate = 0;  // points per second
};

struct QueryCost {
  double requested = 0;
  std::optional<double> actual;  // null when the query did not run (throttled, invalid)
  std::optional<ThrottleStatus> throttle;
};

struct GraphqlError {
  std::string message;
  std::string code;  // extensions.code, "" if none
};

// What every GraphQL answer carries.
struct Reply {
  boost::json::value data;  // null when absent
  std::vector<GraphqlError> errors;
  std::optional<QueryCost> cost;

  bool throttled() const;
  // True when `data` is null or every one of its fields is null: the
  // operation did not run (validation, variables, a run-time failure).
  bool data_missing() const;
};

// Reads an answer body already parsed as JSON. Returns nullopt for a shape that
// is not a GraphQL answer (not an object, or neither `data` nor `errors`).
std::optional<Reply> read_reply(const boost::json::value& body);

// ---- inventoryItems -----------------------------------------------------------------------

// One item of the catalogue: a SKU and the inventory item that holds its stock
// (a paged walk, a search, or a bulk operation's line).
struct VariantItem {
  std::string sku;
  std::string inventory_item_id;
};

struct VariantsPage {
  std::vector<VariantItem> variants;  // items without a SKU are left out
  bool has_next_page = false;
  std::string end_cursor;
};

// Reads data.inventoryItems. Throws std::runtime_error when the shape is wrong.
VariantsPage read_items_page(const boost::json::value& data);

boost::json::object items_page_variables(const std::string& cursor);  // "" = first page
boost::json::object items_search_variables(std::string_view query, std::size_t first,
                                           const std::string& cursor);

// sku:"A" OR sku:"B" ...: every SKU a double-quoted string with backslash and
// double quote escaped by a backslash (Shopify search syntax: a value is a
// name or a quoted string; inside one, spaces, colons and parentheses are
// plain text), so any text matches itself exactly and no SKU can change the
// query's meaning.
std::string sku_search_query(const std::vector<std::string>& skus);

// Splits `skus` into groups for sku_search_query, in order: at most
// `max_terms` SKUs a group, and a query text of at most `max_chars` (a SKU
// whose term alone is longer goes in a group of its own).
std::vector<std::vector<std::string>> sku_search_batches(const std::vector<std::string>& skus,
                                                         std::size_t max_terms,
                                                         std::size_t max_chars);

// ---- inventorySetQuantities ---------------------------------------------------------------

struct QuantityInput {
  std::string inventory_item_id;
  Quantity quantity = 0;
};

// Variables for kSetQuantitiesMutation: name "available", reason "correction",
// changeFromQuantity null on every quantity (the warehouse is the source of
// truth: no compare-and-swap).
boost::json::object set_quantities_variables(const std::string& key,
                                             const std::string& reference_uri,
                                             const std::string& location_id,
                                             const std::vector<QuantityInput>& quantities);

struct UserError {
  std::string code;
  std::string message;
  std::vector<std::string> field;
  // The N of a field path ["input", "quantities", "N", ...], when it names one.
  std::optional<std::size_t> quantity_index;
};

// Reads data.inventorySetQuantities.userErrors. Throws std::runtime_error when
// the payload is missing or malformed.
std::vector<UserError> read_set_quantities(const boost::json::value& data);

// "gid://packagebee/SyncRun/CONNECTION-RUN" from PushContext::run_reference
// ("CONNECTION/RUN"): Shopify's preferred GID form (app, entity type, id),
// every character outside A-Z a-z 0-9 - . _ ~ percent-encoded.
std::string reference_document_uri(std::string_view run_reference);

}  // namespace pb::connectors::shopify
