// The JSON API's URLs (docs/HTTP-API.md): /api/v1/... parsed into a call with typed parameters,
// or the HTTP error to send. Knows nothing of what the calls do (service/web_api.cpp does).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace pb::web {

inline constexpr std::string_view kApiPrefix = "/api/v1/";

// Page sizes: a page of the largest catalogue stays a few hundred kilobytes.
inline constexpr std::uint64_t kInventoryPageDefault = 100;
inline constexpr std::uint64_t kInventoryPageMax = 500;
inline constexpr std::uint64_t kHistoryDefault = 20;
inline constexpr std::uint64_t kHistoryMax = 100;

enum class ApiEndpoint {
  connections,  // GET  /api/v1/connections
  connection,   // GET  /api/v1/connections/NAME
  inventory,    // GET  /api/v1/connections/NAME/inventory?sku=&after=&limit=&changed=
  history,      // GET  /api/v1/connections/NAME/history?limit=
  full_sync,    // POST /api/v1/connections/NAME/full-sync
  sync,         // POST /api/v1/connections/NAME/sync
};

// Calls that change state: they need the admin token.
bool mutates(ApiEndpoint endpoint);

struct ApiCall {
  ApiEndpoint endpoint = ApiEndpoint::connections;
  std::string connection;          // decoded; empty for `connections`
  std::optional<std::string> sku;  // a glob, or a prefix (no wildcard: "ABC" means "ABC*")
  std::optional<std::string> after;
  std::uint64_t limit = 0;  // within the endpoint's cap
  bool changed = false;
};

struct ApiError {
  unsigned status = 400;
  std::string message;
  std::string allow;  // for 405: the methods the URL takes
};

// `method`, `path` and `query` as sent (percent-encoded). HEAD is taken wherever GET is.
std::variant<ApiCall, ApiError> route_api(std::string_view method, std::string_view path,
                                          std::string_view query);

// RFC 3986 percent-decoding; in a query, '+' is a space too (HTML forms). Nothing on a bad
// escape or a NUL byte.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// The glob the control protocol's `inventory --sku` takes for a search box's text: the text
// itself when it has a wildcard, else its prefix search ("AB" -> "AB*").
std::string sku_search_glob(std::string_view text);

}  // namespace pb::web
