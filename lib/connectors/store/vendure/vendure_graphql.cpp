#include "connectors/store/vendure/vendure_graphql.hpp"

#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace pb::connectors::vendure {
namespace {

namespace json = boost::json;

// A store message longer than this is cut: it goes into logs and `beectl status`.
constexpr std::size_t kMaxMessage = 300;

// Only what the map needs (id, sku), sorted by id so that pages do not shift while a
// variant is added or removed between two of them.
constexpr std::string_view kVariantsPage =
    "query Variants($skip: Int!, $take: Int!) { productVariants(options: {skip: $skip, "
    "take: $take, sort: {id: ASC}}) { items { id sku } totalItems } }";
constexpr std::string_view kVariantsBySku =
    "query VariantsBySku($skus: [String!]!, $take: Int!) { productVariants(options: {take: "
    "$take, filter: {sku: {in: $skus}}}) { items { id sku } totalItems } }";
constexpr std::string_view kLogin =
    "mutation Login($username: String!, $password: String!) { login(username: $username, "
    "password: $password) { __typename ... on ErrorResult { errorCode message } } }";
// The answer names only the ids: every field asked costs Vendure a resolver per variant.
constexpr std::string_view kUpdateStock =
    "mutation SetStock($input: [UpdateProductVariantInput!]!) { updateProductVariants(input: "
    "$input) { id } }";

std::string document(std::string_view query, json::object variables) {
  json::object body;
  body["query"] = query;
  body["variables"] = std::move(variables);
  return json::serialize(body);
}

std::string string_at(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

std::string shorten(std::string text) {
  for (auto& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (text.size() > kMaxMessage) {
    text.resize(kMaxMessage);
    text += "...";
  }
  return text;
}

// An id is a string in Vendure's default (integer ids, serialised as strings); a plugin's
// id strategy may make it a number.
std::optional<std::string> id_of(const json::value& value) {
  if (value.is_string()) return std::string(value.get_string());
  if (value.is_int64()) return std::to_string(value.get_int64());
  if (value.is_uint64()) return std::to_string(value.get_uint64());
  return std::nullopt;
}

const json::object* data_field(const json::value& answer, std::string_view name) {
  if (!answer.is_object()) return nullptr;
  const auto* data = answer.get_object().if_contains("data");
  if (data == nullptr || !data->is_object()) return nullptr;
  const auto* field = data->get_object().if_contains(name);
  return field != nullptr && field->is_object() ? &field->get_object() : nullptr;
}

}  // namespace

std::string login_body(const std::string& username, const std::string& password) {
  return document(kLogin, {{"username", username}, {"password", password}});
}

std::string variants_page_body(std::size_t skip, std::size_t take) {
  return document(kVariantsPage, {{"skip", skip}, {"take", take}});
}

std::string variants_by_sku_body(std::span<const std::string> skus) {
  json::array list;
  for (const auto& sku : skus) list.emplace_back(sku);
  // Several variants may share a SKU: room for all of them on the one page.
  return document(kVariantsBySku, {{"skus", std::move(list)}, {"take", kPageSize}});
}

std::string update_stock_body(std::span<const StockUpdate> updates,
                              const std::string& stock_location_id) {
  json::array input;
  input.reserve(updates.size());
  for (const auto& u : updates) {
    json::object variant;
    variant["id"] = u.id;
    if (stock_location_id.empty()) {
      variant["stockOnHand"] = u.quantity;
    } else {
      json::object level;
      level["stockLocationId"] = stock_location_id;
      level["stockOnHand"] = u.quantity;
      variant["stockLevels"] = json::array{std::move(level)};
    }
    input.emplace_back(std::move(variant));
  }
  return document(kUpdateStock, {{"input", std::move(input)}});
}

GraphqlError classify_errors(const json::value& answer) {
  if (!answer.is_object())
    return {ErrorClass::refused, {}, "the answer is not a GraphQL response object"};
  const auto* errors = answer.get_object().if_contains("errors");
  if (errors == nullptr || !errors->is_array() || errors->get_array().empty()) return {};
  const auto& first = errors->get_array().front();
  GraphqlError error{ErrorClass::refused, {}, "GraphQL error"};
  if (!first.is_object()) return error;
  const auto& object = first.get_object();
  if (auto message = string_at(object, "message"); !message.empty())
    error.message = shorten(std::move(message));
  if (const auto* ext = object.if_contains("extensions"); ext != nullptr && ext->is_object())
    error.code = string_at(ext->get_object(), "code");
  if (error.code == "FORBIDDEN")
    error.kind = ErrorClass::forbidden;
  else if (error.code == "INTERNAL_SERVER_ERROR")
    error.kind = ErrorClass::server_failed;
  return error;
}

std::optional<LoginResult> read_login(const json::value& answer) {
  const auto* login = data_field(answer, "login");
  if (login == nullptr) return std::nullopt;
  LoginResult result;
  result.ok = string_at(*login, "__typename") == "CurrentUser";
  if (!result.ok) {
    result.error_code = string_at(*login, "errorCode");
    if (result.error_code.empty()) result.error_code = string_at(*login, "__typename");
    result.message = shorten(string_at(*login, "message"));
  }
  return result;
}

std::optional<VariantPage> read_variants(const json::value& answer) {
  const auto* list = data_field(answer, "productVariants");
  if (list == nullptr) return std::nullopt;
  const auto* items = list->if_contains("items");
  const auto* total = list->if_contains("totalItems");
  if (items == nullptr || !items->is_array() || total == nullptr || !total->is_number())
    return std::nullopt;
  VariantPage page;
  if (total->is_int64() && total->get_int64() >= 0)
    page.total = static_cast<std::size_t>(total->get_int64());
  else if (total->is_uint64())
    page.total = static_cast<std::size_t>(total->get_uint64());
  for (const auto& item : items->get_array()) {
    if (!item.is_object()) return std::nullopt;
    ++page.returned;
    const auto* id = item.get_object().if_contains("id");
    auto parsed = id != nullptr ? id_of(*id) : std::nullopt;
    if (!parsed) return std::nullopt;
    auto sku = string_at(item.get_object(), "sku");
    if (!sku.empty()) page.variants.emplace_back(std::move(sku), std::move(*parsed));
  }
  return page;
}

}  // namespace pb::connectors::vendure
