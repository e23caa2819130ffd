// The Vendure 3 Admin API documents the connector sends (login, a page of variants, a lookup
// by SKU, the stock update) and how it reads the answers: pure functions, unit-tested.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "core/types.hpp"

namespace pb::connectors::vendure {

// `take` above 1,000 is refused (USER_INPUT_ERROR) by Vendure's default
// apiOptions.adminListQueryLimit.
inline constexpr std::size_t kPageSize = 1000;
// SKUs per targeted lookup (productVariants filter sku: {in: [...]}): a short request body.
inline constexpr std::size_t kLookupSize = 100;

// One variant's new stock: `id` is Vendure's ProductVariant id.
struct StockUpdate {
  std::string id;
  Quantity quantity = 0;
};

// A page of productVariants: (sku, id) pairs, and the count over all pages.
struct VariantPage {
  std::vector<std::pair<std::string, std::string>> variants;
  std::size_t returned = 0;  // variants on the page, with a SKU or not
  std::size_t total = 0;
};

// The login mutation's result.
struct LoginResult {
  bool ok = false;
  std::string error_code;  // InvalidCredentialsError, NativeAuthStrategyError...
  std::string message;
};

// How the connector must treat a GraphQL answer that carries `errors`.
enum class ErrorClass {
  none,           // no errors
  forbidden,      // FORBIDDEN: no session, an expired one, a refused key, or missing permissions
  refused,        // the request was refused as a whole (ENTITY_NOT_FOUND, USER_INPUT_ERROR...)
  server_failed,  // INTERNAL_SERVER_ERROR: may pass when sent again
};

// The first error of an answer, classified.
struct GraphqlError {
  ErrorClass kind = ErrorClass::none;
  std::string code;     // extensions.code, when given
  std::string message;  // the first error's message, cut to a readable length
};

// {"query": ..., "variables": ...} bodies.
std::string login_body(const std::string& username, const std::string& password);
std::string variants_page_body(std::size_t skip, std::size_t take);
std::string variants_by_sku_body(std::span<const std::string> skus);
// `stock_location_id` empty: stockOnHand (the channel's default location); otherwise
// stockLevels on that location.
std::string update_stock_body(std::span<const StockUpdate> updates,
                              const std::string& stock_location_id);

// The answer's first error, if any. An answer that is not a GraphQL response object is
// `refused` with a message saying so.
GraphqlError classify_errors(const boost::json::value& answer);

// Reads data.login; nullopt when absent (the answer had errors, or is not Vendure's).
std::optional<LoginResult> read_login(const boost::json::value& answer);
// Reads data.productVariants; nullopt when absent or malformed. Variants without SKU are left out.
std::optional<VariantPage> read_variants(const boost::json::value& answer);

}  // namespace pb::connectors::vendure
