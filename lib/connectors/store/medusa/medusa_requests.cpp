#include "connectors/store/medusa/medusa_requests.hpp"

#include <cmath>
#include <map>
#include <stdexcept>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "net/url.hpp"

namespace pb::connectors::medusa {
namespace {

namespace json = boost::json;

// A store message longer than this is cut: it goes into logs and `beectl status`.
constexpr std::size_t kMaxMessage = 300;

// Only what the map needs: a page of 1,000 is ~100 KB, not the ~1 MB of the default fields.
constexpr std::string_view kCatalogueFields = "id,sku,location_levels.location_id";
constexpr std::string_view kLookupPrefix = "fields=id,sku,location_levels.location_id&limit=";

const json::value* member(const json::value& v, std::string_view key) {
  const auto* object = v.if_object();
  return object ? object->if_contains(key) : nullptr;
}

std::string string_member(const json::value& v, std::string_view key) {
  const auto* m = member(v, key);
  return m && m->is_string() ? std::string(m->get_string()) : std::string();
}

// Medusa answers quantities as JSON numbers (a BigNumber column serialises as a number).
std::optional<double> number_member(const json::value& v, std::string_view key) {
  const auto* m = member(v, key);
  if (m == nullptr) return std::nullopt;
  if (m->is_int64()) return static_cast<double>(m->get_int64());
  if (m->is_uint64()) return static_cast<double>(m->get_uint64());
  if (m->is_double()) return m->get_double();
  return std::nullopt;
}

bool has_level_at(const json::value& item, std::string_view location_id) {
  const auto* levels = member(item, "location_levels");
  if (levels == nullptr || !levels->is_array()) return false;
  for (const auto& level : levels->get_array())
    if (string_member(level, "location_id") == location_id) return true;
  return false;
}

std::string shorten(std::string text) {
  if (text.size() > kMaxMessage) {
    text.resize(kMaxMessage);
    text += "...";
  }
  return text;
}

json::object level_entry(const LevelWrite& w, std::string_view location_id) {
  return json::object{{"inventory_item_id", w.item_id},
                      {"location_id", location_id},
                      {"stocked_quantity", w.quantity}};
}

std::string quantity_mismatch(const LevelWrite& w, std::optional<double> got) {
  return "Medusa answered stocked_quantity " +
         (got ? std::to_string(static_cast<long long>(std::llround(*got))) : "(none)") +
         " for inventory item " + w.item_id + " instead of " + std::to_string(w.quantity);
}

}  // namespace

std::string encode_item(const ItemRef& item) {
  return (item.stocked ? "1" : "0") + item.id;
}

std::optional<ItemRef> decode_item(std::string_view text) {
  if (text.size() < 2 || (text[0] != '0' && text[0] != '1')) return std::nullopt;
  return ItemRef{std::string(text.substr(1)), text[0] == '1'};
}

std::string catalogue_query(std::size_t offset, std::size_t limit) {
  return "fields=" + std::string(kCatalogueFields) + "&order=id&limit=" + std::to_string(limit) +
         "&offset=" + std::to_string(offset);
}

std::vector<std::string> lookup_queries(std::span<const std::string> skus,
                                        const QueryLimits& limits) {
  std::vector<std::string> queries;
  std::string params;
  std::size_t count = 0;
  const auto flush = [&] {
    if (count == 0) return;
    // A limit as large as the SKUs asked: one page answers each query.
    queries.push_back(std::string(kLookupPrefix) + std::to_string(count) + params);
    params.clear();
    count = 0;
  };
  // Room for the prefix, the limit's digits and the path in front of the query.
  const std::size_t fixed = kLookupPrefix.size() + 8 + 64;
  for (const auto& sku : skus) {
    const auto param = "&sku=" + net::url_encode(sku);
    // 2 fixed parameters (fields, limit) besides the SKUs.
    if (count > 0 &&
        (count + 3 > limits.max_params || fixed + params.size() + param.size() > limits.max_bytes))
      flush();
    params += param;
    ++count;
  }
  flush();
  return queries;
}

InventoryPage parse_inventory_page(const json::value& body, std::string_view location_id) {
  const auto* items = member(body, "inventory_items");
  if (items == nullptr || !items->is_array())
    throw std::runtime_error("the reply has no inventory_items list");
  InventoryPage page;
  const auto count = number_member(body, "count");
  page.count = count && *count > 0 ? static_cast<std::size_t>(*count) : 0;
  for (const auto& item : items->get_array()) {
    ++page.returned;
    auto id = string_member(item, "id");
    if (id.empty()) throw std::runtime_error("an inventory item without an id");
    auto sku = string_member(item, "sku");
    if (sku.empty()) continue;  // an item nobody can name by SKU
    page.items.emplace_back(std::move(sku),
                            ItemRef{std::move(id), has_level_at(item, location_id)});
  }
  return page;
}

std::string batch_body(std::span<const LevelWrite> writes, std::string_view location_id) {
  json::array create;
  json::array update;
  for (const auto& w : writes) (w.create ? create : update).push_back(level_entry(w, location_id));
  return json::serialize(json::object{
      {"create", std::move(create)}, {"update", std::move(update)}, {"delete", json::array{}}});
}

std::string level_update_body(Quantity quantity) {
  return json::serialize(json::object{{"stocked_quantity", quantity}});
}

std::string level_create_body(std::string_view location_id, Quantity quantity) {
  return json::serialize(
      json::object{{"location_id", location_id}, {"stocked_quantity", quantity}});
}

std::optional<std::string> check_batch_reply(const json::value& body,
                                             std::span<const LevelWrite> writes,
                                             std::string_view location_id) {
  std::map<std::string, std::optional<double>, std::less<>> answered;
  for (const auto* list : {member(body, "created"), member(body, "updated")}) {
    if (list == nullptr || !list->is_array()) continue;
    for (const auto& level : list->get_array())
      if (string_member(level, "location_id") == location_id)
        answered[string_member(level, "inventory_item_id")] =
            number_member(level, "stocked_quantity");
  }
  for (const auto& w : writes) {
    const auto found = answered.find(w.item_id);
    if (found == answered.end())
      return "Medusa's batch reply does not list inventory item " + w.item_id;
    if (!found->second || std::llround(*found->second) != w.quantity)
      return quantity_mismatch(w, found->second);
  }
  return std::nullopt;
}

std::optional<std::string> check_item_reply(const json::value& body, const LevelWrite& write,
                                            std::string_view location_id) {
  const auto* item = member(body, "inventory_item");
  const auto* levels = item ? member(*item, "location_levels") : nullptr;
  if (levels != nullptr && levels->is_array())
    for (const auto& level : levels->get_array())
      if (string_member(level, "location_id") == location_id) {
        const auto got = number_member(level, "stocked_quantity");
        if (got && std::llround(*got) == write.quantity) return std::nullopt;
        return quantity_mismatch(write, got);
      }
  return "Medusa's reply shows no level of inventory item " + write.item_id + " at " +
         std::string(location_id);
}

std::string describe_error(const net::Response& response) {
  std::string text = "HTTP " + std::to_string(response.status);
  json::error_code ec;
  const auto body = json::parse(response.body, ec);
  if (ec || !body.is_object()) return text;
  if (auto type = string_member(body, "type"); !type.empty()) text += " " + shorten(type);
  if (auto message = string_member(body, "message"); !message.empty())
    text += ": " + shorten(std::move(message));
  return text;
}

bool route_missing(const net::Response& response) {
  if (response.status != 404) return false;
  json::error_code ec;
  const auto body = json::parse(response.body, ec);
  return ec || string_member(body, "type").empty();
}

bool is_refusal(unsigned status) {
  return status == 400 || status == 404 || status == 409 || status == 422;
}

}  // namespace pb::connectors::medusa
