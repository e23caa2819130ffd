#include "connectors/store/shopify/shopify_graphql.hpp"

#include <charconv>
#include <stdexcept>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace pb::connectors::shopify {

namespace json = boost::json;

const std::string_view kItemsPageQuery = R"(query PackageBeeItems($cursor: String) {
  inventoryItems(first: 250, after: $cursor) {
    nodes { id sku }
    pageInfo { hasNextPage endCursor }
  }
})";

const std::string_view kItemsSearchQuery =
    R"(query PackageBeeFindItems($query: String!, $first: Int!, $cursor: String) {
  inventoryItems(first: $first, after: $cursor, query: $query) {
    nodes { id sku }
    pageInfo { hasNextPage endCursor }
  }
})";

const std::string_view kShopQuery = "query PackageBeeCheck { shop { id } }";

const std::string_view kSetQuantitiesMutation =
    R"(mutation PackageBeeSetQuantities($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    userErrors { code field message }
  }
})";

std::string request_body(std::string_view query, json::object variables) {
  json::object body;
  body["query"] = query;
  body["variables"] = std::move(variables);
  return json::serialize(body);
}

// ---- answers ------------------------------------------------------------------------------
namespace {

const json::value* member(const json::value& v, std::string_view key) {
  const auto* object = v.if_object();
  if (object == nullptr) return nullptr;
  const auto it = object->find(key);
  return it == object->end() ? nullptr : &it->value();
}

std::optional<double> number(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  if (v->is_double()) return v->as_double();
  return std::nullopt;
}

std::string text(const json::value* v) {
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->as_string());
}

std::optional<QueryCost> read_cost(const json::value& body) {
  const auto* extensions = member(body, "extensions");
  const auto* cost = extensions ? member(*extensions, "cost") : nullptr;
  if (cost == nullptr || !cost->is_object()) return std::nullopt;
  QueryCost out;
  out.requested = number(member(*cost, "requestedQueryCost")).value_or(0);
  out.actual = number(member(*cost, "actualQueryCost"));
  if (const auto* status = member(*cost, "throttleStatus")) {
    const auto maximum = number(member(*status, "maximumAvailable"));
    const auto available = number(member(*status, "currentlyAvailable"));
    const auto rate = number(member(*status, "restoreRate"));
    if (maximum && available && rate) out.throttle = ThrottleStatus{*maximum, *available, *rate};
  }
  return out;
}

[[noreturn]] void bad_shape(std::string_view what) {
  throw std::runtime_error("unexpected answer from Shopify: " + std::string(what));
}

}  // namespace

bool Reply::throttled() const {
  for (const auto& e : errors)
    if (e.code == "THROTTLED") return true;
  return false;
}

bool Reply::data_missing() const {
  const auto* object = data.if_object();
  if (object == nullptr) return true;
  for (const auto& field : *object)
    if (!field.value().is_null()) return false;
  return true;
}

std::optional<Reply> read_reply(const json::value& body) {
  if (!body.is_object()) return std::nullopt;
  const auto* data = member(body, "data");
  const auto* errors = member(body, "errors");
  if (data == nullptr && errors == nullptr) return std::nullopt;
  Reply reply;
  if (data != nullptr) reply.data = *data;
  if (errors != nullptr) {
    // GraphQL errors are a list; the REST-style {"errors": "text"} shape appears on
    // non-200 answers, which never get here, but read it rather than lose it.
    if (const auto* list = errors->if_array()) {
      for (const auto& e : *list) {
        const auto* extensions = member(e, "extensions");
        reply.errors.push_back(
            {text(member(e, "message")), extensions ? text(member(*extensions, "code")) : ""});
      }
    } else if (errors->is_string()) {
      reply.errors.push_back({std::string(errors->as_string()), ""});
    }
  }
  reply.cost = read_cost(body);
  return reply;
}

// ---- inventoryItems -----------------------------------------------------------------------

VariantsPage read_items_page(const json::value& data) {
  const auto* connection = member(data, "inventoryItems");
  if (connection == nullptr || !connection->is_object()) bad_shape("no inventoryItems");
  const auto* nodes = member(*connection, "nodes");
  const auto* page_info = member(*connection, "pageInfo");
  if (nodes == nullptr || !nodes->is_array() || page_info == nullptr)
    bad_shape("inventoryItems without nodes or pageInfo");
  VariantsPage page;
  for (const auto& node : nodes->as_array()) {
    auto sku = text(member(node, "sku"));
    auto id = text(member(node, "id"));
    if (sku.empty() || id.empty()) continue;  // an item without a SKU cannot be synced
    page.variants.push_back({std::move(sku), std::move(id)});
  }
  const auto* has_next = member(*page_info, "hasNextPage");
  page.has_next_page = has_next != nullptr && has_next->is_bool() && has_next->as_bool();
  page.end_cursor = text(member(*page_info, "endCursor"));
  if (page.has_next_page && page.end_cursor.empty()) bad_shape("hasNextPage without endCursor");
  return page;
}

json::object items_page_variables(const std::string& cursor) {
  json::object v;
  if (cursor.empty())
    v["cursor"] = nullptr;
  else
    v["cursor"] = cursor;
  return v;
}

json::object items_search_variables(std::string_view query, std::size_t first,
                                    const std::string& cursor) {
  auto v = items_page_variables(cursor);
  v["query"] = query;
  v["first"] = static_cast<std::int64_t>(first);
  return v;
}

namespace {

constexpr std::string_view kOr = " OR ";

void append_term(std::string& out, const std::string& sku) {
  out += "sku:\"";
  for (const char c : sku) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

std::size_t term_length(const std::string& sku) {
  std::size_t n = 6;  // sku:""
  for (const char c : sku) n += (c == '"' || c == '\\') ? 2 : 1;
  return n;
}

}  // namespace

std::string sku_search_query(const std::vector<std::string>& skus) {
  std::string out;
  for (const auto& sku : skus) {
    if (!out.empty()) out += kOr;
    append_term(out, sku);
  }
  return out;
}

std::vector<std::vector<std::string>> sku_search_batches(const std::vector<std::string>& skus,
                                                         std::size_t max_terms,
                                                         std::size_t max_chars) {
  std::vector<std::vector<std::string>> groups;
  std::size_t chars = 0;
  for (const auto& sku : skus) {
    const auto term = term_length(sku);
    const bool fits = !groups.empty() && groups.back().size() < max_terms &&
                      chars + kOr.size() + term <= max_chars;
    if (fits) {
      chars += kOr.size() + term;
    } else {
      groups.emplace_back();
      chars = term;
    }
    groups.back().push_back(sku);
  }
  return groups;
}

// ---- inventorySetQuantities ---------------------------------------------------------------

json::object set_quantities_variables(const std::string& key, const std::string& reference_uri,
                                      const std::string& location_id,
                                      const std::vector<QuantityInput>& quantities) {
  json::array list;
  list.reserve(quantities.size());
  for (const auto& q : quantities) {
    json::object entry;
    entry["inventoryItemId"] = q.inventory_item_id;
    entry["locationId"] = location_id;
    entry["quantity"] = q.quantity;
    // Required from 2026-04; null opts out of compare-and-swap.
    entry["changeFromQuantity"] = nullptr;
    list.emplace_back(std::move(entry));
  }
  json::object input;
  input["name"] = "available";
  input["reason"] = "correction";
  input["referenceDocumentUri"] = reference_uri;
  input["quantities"] = std::move(list);
  json::object v;
  v["input"] = std::move(input);
  v["key"] = key;
  return v;
}

std::vector<UserError> read_set_quantities(const json::value& data) {
  const auto* payload = member(data, "inventorySetQuantities");
  if (payload == nullptr || !payload->is_object()) bad_shape("no inventorySetQuantities payload");
  const auto* errors = member(*payload, "userErrors");
  if (errors == nullptr || !errors->is_array())
    bad_shape("inventorySetQuantities without userErrors");
  std::vector<UserError> out;
  for (const auto& e : errors->as_array()) {
    UserError error{text(member(e, "code")), text(member(e, "message")), {}, std::nullopt};
    if (const auto* field = member(e, "field"); field != nullptr && field->is_array())
      for (const auto& part : field->as_array()) error.field.push_back(text(&part));
    const auto& f = error.field;
    if (f.size() >= 3 && f[0] == "input" && f[1] == "quantities") {
      std::size_t index = 0;
      const auto* end = f[2].data() + f[2].size();
      const auto [ptr, ec] = std::from_chars(f[2].data(), end, index);
      if (ec == std::errc() && ptr == end && !f[2].empty()) error.quantity_index = index;
    }
    out.push_back(std::move(error));
  }
  return out;
}

std::string reference_document_uri(std::string_view run_reference) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "gid://packagebee/SyncRun/";
  if (run_reference.empty()) run_reference = "unnamed";  // a GID needs all three parts
  for (const char c : run_reference) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += c;
    } else if (c == '/') {
      out += '-';  // "CONNECTION/RUN": the run number stays the last dash-separated part
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

}  // namespace pb::connectors::shopify
