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

// Every variant's SKU and inventory item, a page at a time ($cursor: null for
// the first page). 250 nodes at 2 points each plus the connection's 2: 502,
// well under the 1,000-point cap of a single query (MAX_COST_EXCEEDED).
extern const std::string_view kVariantsPageQuery;
// The same selection, filtered by a search query ($query), $first at a time.
extern const std::string_view kVariantsSearchQuery;
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

// ---- productVariants ----------------------------------------------------------------------

struct VariantItem {
  std::string sku;
  std::string inventory_item_id;
};

struct VariantsPage {
  std::vector<VariantItem> variants;  // variants without a SKU are left out
  bool has_next_page = false;
  std::string end_cursor;
};

// Reads data.productVariants. Throws std::runtime_error when the shape is wrong.
VariantsPage read_variants_page(const boost::json::value& data);

boost::json::object variants_page_variables(const std::string& cursor);  // "" = first page
boost::json::object variants_search_variables(std::string_view query, std::size_t first,
                                              const std::string& cursor);

// sku:"A" OR sku:"B" ...: every SKU quoted, backslash and double quote escaped
// (Shopify search syntax), so any text matches itself exactly and no SKU can
// change the query's meaning.
std::string sku_search_query(const std::vector<std::string>& skus);

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
