#include "connectors/store/bigcommerce/bigcommerce_json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace pb::connectors::bigcommerce {
namespace {

namespace json = boost::json;

// A store message longer than this is cut: it goes into logs and `beectl status`.
constexpr std::size_t kMaxMessage = 300;

std::string text_of(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr) return {};
  if (value->is_string()) return std::string(value->get_string());
  if (value->is_null()) return {};
  return json::serialize(*value);
}

std::optional<std::size_t> count_of(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || !value->is_int64() || value->get_int64() < 0) return std::nullopt;
  return static_cast<std::size_t>(value->get_int64());
}

std::optional<std::string> id_of(const json::object& identity) {
  for (const auto& [key, prefix] : {std::pair{"variant_id", "v"}, std::pair{"product_id", "p"}}) {
    const auto* value = identity.if_contains(key);
    if (value != nullptr && value->is_int64()) return prefix + std::to_string(value->get_int64());
  }
  return std::nullopt;
}

}  // namespace

std::string adjustment_body(std::string_view reason, std::int64_t location_id,
                            std::span<const PushItem> items) {
  json::array list;
  list.reserve(items.size());
  for (const auto& item : items)
    list.push_back(
        json::object{{"location_id", location_id}, {"sku", item.sku}, {"quantity", item.quantity}});
  json::object body{{"reason", reason}};
  body["items"] = std::move(list);
  return json::serialize(body);
}

std::optional<Problem> parse_problem(std::string_view body) {
  json::error_code ec;
  const auto value = json::parse(body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& object = value.get_object();
  Problem problem;
  if (const auto* status = object.if_contains("status"); status && status->is_int64())
    problem.status = status->get_int64();
  problem.title = text_of(object, "title");
  problem.type = text_of(object, "type");
  if (const auto* errors = object.if_contains("errors"); errors && errors->is_object())
    for (const auto& [field, message] : errors->get_object())
      problem.errors.emplace_back(std::string(field), message.is_string()
                                                          ? std::string(message.get_string())
                                                          : json::serialize(message));
  if (problem.title.empty() && problem.errors.empty()) return std::nullopt;
  return problem;
}

std::string describe_problem(const Problem& problem) {
  std::string text = problem.title.empty() ? "refused" : problem.title;
  if (!problem.errors.empty()) {
    text += " (";
    for (std::size_t i = 0; i < problem.errors.size(); ++i) {
      if (i > 0) text += "; ";
      text += problem.errors[i].first + ": " + problem.errors[i].second;
    }
    text += ")";
  }
  for (auto& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (text.size() > kMaxMessage) {
    text.resize(kMaxMessage);
    text += "...";
  }
  return text;
}

std::optional<ItemsPage> parse_items_page(const json::value& body) {
  if (!body.is_object()) return std::nullopt;
  const auto& object = body.get_object();
  const auto* data = object.if_contains("data");
  if (data == nullptr || !data->is_array()) return std::nullopt;
  ItemsPage page;
  page.count = data->get_array().size();
  for (const auto& item : data->get_array()) {
    if (!item.is_object()) continue;
    const auto* identity = item.get_object().if_contains("identity");
    if (identity == nullptr || !identity->is_object()) continue;
    const auto& fields = identity->get_object();
    const auto* sku = fields.if_contains("sku");
    if (sku == nullptr || !sku->is_string() || sku->get_string().empty()) continue;
    if (auto id = id_of(fields))
      page.items.emplace_back(std::string(sku->get_string()), std::move(*id));
  }
  if (const auto* meta = object.if_contains("meta"); meta && meta->is_object()) {
    const auto* pagination = meta->get_object().if_contains("pagination");
    if (pagination != nullptr && pagination->is_object()) {
      const auto& p = pagination->get_object();
      page.current_page = count_of(p, "current_page").value_or(0);
      page.total_pages = count_of(p, "total_pages").value_or(0);
      page.total = count_of(p, "total").value_or(0);
    }
  }
  return page;
}

}  // namespace pb::connectors::bigcommerce
