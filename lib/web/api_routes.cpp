#include "web/api_routes.hpp"

#include <array>
#include <charconv>
#include <utility>
#include <vector>

namespace pb::web {

namespace {

struct Segment {
  std::string_view name;
  ApiEndpoint endpoint;
};
// What may follow /api/v1/connections/NAME/.
constexpr std::array<Segment, 4> kSubresources{{
    {"inventory", ApiEndpoint::inventory},
    {"history", ApiEndpoint::history},
    {"full-sync", ApiEndpoint::full_sync},
    {"sync", ApiEndpoint::sync},
}};

ApiError not_found(std::string_view path) {
  return {404, "no such API endpoint: " + std::string(path) + " (see docs/HTTP-API.md)", {}};
}

using Params = std::vector<std::pair<std::string, std::string>>;

std::variant<Params, ApiError> parse_query(std::string_view query) {
  Params params;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!key || !value) return ApiError{400, "bad percent-encoding in the query string", {}};
    for (const auto& [seen, unused] : params)
      if (seen == *key) return ApiError{400, "query parameter '" + *key + "' given twice", {}};
    params.emplace_back(std::move(*key), std::move(*value));
  }
  return params;
}

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

// Applies the query to `call`; the keys each endpoint takes, and nothing else.
std::optional<ApiError> apply_params(ApiCall& call, const Params& params) {
  const bool listing = call.endpoint == ApiEndpoint::inventory;
  const bool history = call.endpoint == ApiEndpoint::history;
  call.limit = listing ? kInventoryPageDefault : history ? kHistoryDefault : 0;
  const auto cap = listing ? kInventoryPageMax : kHistoryMax;
  for (const auto& [key, value] : params) {
    if ((listing || history) && key == "limit") {
      const auto n = parse_count(value);
      if (!n || *n == 0)
        return ApiError{
            400, "limit must be a positive integer (at most " + std::to_string(cap) + ")", {}};
      call.limit = std::min(*n, cap);
    } else if (listing && key == "sku") {
      if (!value.empty()) call.sku = sku_search_glob(value);
    } else if (listing && key == "after") {
      call.after = value;
    } else if (listing && key == "changed") {
      if (value != "true" && value != "false" && value != "1" && value != "0")
        return ApiError{400, "changed must be true or false", {}};
      call.changed = value == "true" || value == "1";
    } else {
      return ApiError{400, "unknown query parameter '" + key + "'", {}};
    }
  }
  return std::nullopt;
}

// Where the URL is known: the method it was asked with must fit.
std::optional<ApiError> check_method(std::string_view method, ApiEndpoint endpoint) {
  if (mutates(endpoint)) {
    if (method == "POST") return std::nullopt;
    return ApiError{405, "method not allowed: use POST", "POST"};
  }
  if (method == "GET" || method == "HEAD") return std::nullopt;
  return ApiError{405, "method not allowed: use GET", "GET, HEAD"};
}

// "connections", "connections/NAME" or "connections/NAME/SUB" into an endpoint and a name.
std::variant<ApiCall, ApiError> parse_path(std::string_view path) {
  std::string_view rest = path.substr(kApiPrefix.size());
  constexpr std::string_view kConnections = "connections";
  if (!rest.starts_with(kConnections)) return not_found(path);
  rest.remove_prefix(kConnections.size());
  ApiCall call;
  if (rest.empty() || rest == "/") return call;
  if (rest.front() != '/') return not_found(path);
  rest.remove_prefix(1);
  const auto slash = rest.find('/');
  auto name = percent_decode(rest.substr(0, slash), false);
  if (!name || name->empty() || name->find('/') != std::string::npos) return not_found(path);
  call.connection = std::move(*name);
  call.endpoint = ApiEndpoint::connection;
  if (slash == std::string_view::npos) return call;
  const auto sub = rest.substr(slash + 1);
  for (const auto& segment : kSubresources)
    if (sub == segment.name) {
      call.endpoint = segment.endpoint;
      return call;
    }
  return not_found(path);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool mutates(ApiEndpoint endpoint) {
  return endpoint == ApiEndpoint::full_sync || endpoint == ApiEndpoint::sync;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_digit(text[i + 1]), lo = hex_digit(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

std::string sku_search_glob(std::string_view text) {
  if (text.find_first_of("*?") != std::string_view::npos) return std::string(text);
  return std::string(text) + "*";
}

std::variant<ApiCall, ApiError> route_api(std::string_view method, std::string_view path,
                                          std::string_view query) {
  if (!path.starts_with(kApiPrefix)) return not_found(path);
  auto parsed = parse_path(path);
  if (auto* error = std::get_if<ApiError>(&parsed)) return std::move(*error);
  auto call = std::get<ApiCall>(std::move(parsed));
  if (auto problem = check_method(method, call.endpoint)) return std::move(*problem);
  auto params = parse_query(query);
  if (auto* error = std::get_if<ApiError>(&params)) return std::move(*error);
  if (auto problem = apply_params(call, std::get<Params>(params))) return std::move(*problem);
  return call;
}

}  // namespace pb::web
