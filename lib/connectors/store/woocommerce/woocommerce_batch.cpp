#include "connectors/store/woocommerce/woocommerce_batch.hpp"

#include <charconv>
#include <cstdint>
#include <map>
#include <optional>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace pb::connectors {
namespace {

namespace json = boost::json;

std::optional<std::int64_t> as_integer(const json::value* value) {
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->get_int64();
  if (value->is_uint64() && value->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(value->get_uint64());
  if (value->is_double()) {
    const double d = value->get_double();
    const auto i = static_cast<std::int64_t>(d);
    if (static_cast<double>(i) == d) return i;
  }
  if (value->is_string()) {
    // Some plugins turn numbers into strings; "7" still says 7.
    const auto& s = value->get_string();
    std::int64_t i = 0;
    const auto* end = s.data() + s.size();
    const auto [ptr, ec] = std::from_chars(s.data(), end, i);
    if (ec == std::errc() && ptr == end) return i;
  }
  return std::nullopt;
}

std::string string_field(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string{};
}

WooItemResult read_error(const json::object& error) {
  const auto code = string_field(error, "code");
  auto message = string_field(error, "message");
  WooItemResult result;
  result.message = code.empty() ? message : code + ": " + message;
  if (result.message.empty()) result.message = "the store refused the update without a reason";
  std::optional<std::int64_t> status;
  if (const auto* data = error.if_contains("data"); data != nullptr && data->is_object())
    status = as_integer(data->get_object().if_contains("status"));
  if (code.ends_with("_invalid_id"))
    result.status = WooItemStatus::invalid_id;
  else if (status && *status >= 500)
    result.status = WooItemStatus::transient;
  else
    result.status = WooItemStatus::rejected;
  return result;
}

WooItemResult read_item(const json::value& answer, const WooUpdate& update) {
  if (!answer.is_object()) return {WooItemStatus::transient, "the store's answer is not an object"};
  const auto& object = answer.get_object();
  if (const auto* error = object.if_contains("error"); error != nullptr && error->is_object())
    return read_error(error->get_object());
  const auto quantity = as_integer(object.if_contains("stock_quantity"));
  if (quantity && *quantity == update.quantity) return {WooItemStatus::confirmed, {}};
  // The update went through but the store holds something else: typically a product type
  // without stock of its own (grouped, external). Sending it again would change nothing.
  const auto* held = object.if_contains("stock_quantity");
  return {WooItemStatus::rejected, "the store kept stock_quantity " +
                                       (held != nullptr ? json::serialize(*held) : "(none)") +
                                       " after an update to " + std::to_string(update.quantity) +
                                       " (does this product manage stock?)"};
}

}  // namespace

std::string WooBatch::resource() const {
  return parent == 0 ? "products/batch"
                     : "products/" + std::to_string(parent) + "/variations/batch";
}

std::vector<WooBatch> plan_batches(const std::vector<WooUpdate>& updates, std::size_t limit) {
  std::vector<WooBatch> batches;
  std::map<std::uint64_t, std::size_t> open;  // parent -> its batch still taking updates
  for (const auto& update : updates) {
    const auto parent = update.target.parent;
    auto found = open.find(parent);
    if (found == open.end() || batches[found->second].updates.size() >= limit) {
      batches.push_back(WooBatch{parent, {}});
      found = open.insert_or_assign(parent, batches.size() - 1).first;
    }
    batches[found->second].updates.push_back(update);
  }
  return batches;
}

std::string batch_body(const WooBatch& batch) {
  json::array update;
  update.reserve(batch.updates.size());
  for (const auto& u : batch.updates) {
    json::object object;
    object["id"] = u.target.id;
    object["stock_quantity"] = u.quantity;
    object["manage_stock"] = true;
    update.push_back(std::move(object));
  }
  json::object body;
  body["update"] = std::move(update);
  return json::serialize(body);
}

std::vector<WooItemResult> read_batch_reply(const json::value& body, const WooBatch& batch) {
  std::vector<WooItemResult> results(
      batch.updates.size(),
      WooItemResult{WooItemStatus::transient, "the store's batch answer did not mention it"});
  const json::array* answers = nullptr;
  if (body.is_object())
    if (const auto* update = body.get_object().if_contains("update");
        update != nullptr && update->is_array())
      answers = &update->get_array();
  if (answers == nullptr) return results;

  // Position first; by id when the store left one out or reordered them.
  std::multimap<std::int64_t, std::size_t> by_id;
  for (std::size_t k = 0; k < answers->size(); ++k)
    if ((*answers)[k].is_object())
      if (const auto id = as_integer((*answers)[k].get_object().if_contains("id")))
        by_id.emplace(*id, k);
  for (std::size_t i = 0; i < batch.updates.size(); ++i) {
    const auto& update = batch.updates[i];
    const auto want = static_cast<std::int64_t>(update.target.id);
    const json::value* answer = nullptr;
    if (i < answers->size() && (*answers)[i].is_object() &&
        as_integer((*answers)[i].get_object().if_contains("id")) == want)
      answer = &(*answers)[i];
    else if (const auto it = by_id.find(want); it != by_id.end())
      answer = &(*answers)[it->second];
    if (answer != nullptr) results[i] = read_item(*answer, update);
  }
  return results;
}

}  // namespace pb::connectors
