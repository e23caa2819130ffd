#include "connectors/warehouse/http/json_feed_builder.hpp"

#include <charconv>
#include <cmath>
#include <system_error>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "connectors/warehouse/feed_assembly.hpp"
#include "connectors/warehouse/http/rfc3339_time.hpp"

namespace pb::connectors {
namespace {

namespace json = boost::json;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A string as it is, an integer in decimal; nullopt for anything else.
std::optional<std::string> scalar_text(const json::value* value) {
  if (value == nullptr) return std::nullopt;
  if (const auto* s = value->if_string()) return std::string(*s);
  if (const auto* i = value->if_int64()) return std::to_string(*i);
  if (const auto* u = value->if_uint64()) return std::to_string(*u);
  return std::nullopt;
}

// A value as a message shows it: a string without JSON's quotes, a double as written most
// briefly ("2.5", where serialize() gives "2.5E0"), anything else as JSON.
std::string shown(const json::value& value) {
  if (const auto* s = value.if_string()) return quote_for_message(*s);
  if (const auto* d = value.if_double()) {
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, *d);
    if (ec == std::errc())
      return quote_for_message(std::string_view(buffer, static_cast<std::size_t>(end - buffer)));
  }
  return quote_for_message(json::serialize(value));
}

const char* kind_of(const json::value& value) {
  switch (value.kind()) {
    case json::kind::object:
      return "an object";
    case json::kind::array:
      return "a list";
    case json::kind::string:
      return "a string";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::null:
      return "null";
    default:
      return "a number";
  }
}

std::string missing_sku(const json::value* value, std::string_view field) {
  return "no SKU (" + quote_for_message(field) + " is " +
         (value == nullptr ? "absent" : kind_of(*value)) + ")";
}

// For an item without the updated_at that incremental reads need.
std::string updated_at_problem(const json::value* value, std::string_view field) {
  if (value == nullptr) return "no " + quote_for_message(field) + " (needed for incremental reads)";
  return quote_for_message(field) + " " + shown(*value) + " is not an RFC 3339 time";
}

// A quantity written as a string: an integer, trimmed.
std::optional<std::string> read_quantity_text(const json::value& q, std::string_view text,
                                              Quantity& quantity) {
  if (text.empty()) return "blank quantity (blank is not zero)";
  switch (parse_quantity(text, quantity)) {
    case QuantityParse::ok:
      return std::nullopt;
    case QuantityParse::not_integer:
      return "quantity " + shown(q) + " is not an integer";
    case QuantityParse::out_of_range:
      return "quantity " + shown(q) + " is out of range";
  }
  return std::nullopt;
}

// The problem with an item's quantity `q` (found at `field`), or nothing with `quantity` set.
std::optional<std::string> read_quantity(const json::value* q, std::string_view field,
                                         Quantity& quantity) {
  if (q == nullptr) return "no quantity (" + quote_for_message(field) + " is absent)";
  if (const auto* i = q->if_int64()) {
    quantity = *i;
    return std::nullopt;
  }
  if (q->is_uint64()) return "quantity " + shown(*q) + " is out of range";
  if (const auto* d = q->if_double()) {
    // 12.0 is an integer written by a tool that knows only doubles; 2^53 is where doubles stop
    // holding every integer.
    if (!std::isfinite(*d) || std::trunc(*d) != *d) {
      return "quantity " + shown(*q) + " is not an integer";
    }
    if (std::fabs(*d) > 9007199254740992.0) return "quantity " + shown(*q) + " is out of range";
    quantity = static_cast<Quantity>(*d);
    return std::nullopt;
  }
  if (const auto* s = q->if_string()) return read_quantity_text(*q, trim(*s), quantity);
  if (q->is_null()) return "quantity is null (null is not zero)";
  return "quantity " + shown(*q) + " is " + kind_of(*q) + ", not a number";
}

}  // namespace

JsonFeedBuilder::JsonFeedBuilder(const config::HttpJsonWarehouseConfig& config, std::string origin)
    : origin_(std::move(origin)),
      duplicates_(config.duplicates),
      cursor_paging_(config.paging == config::JsonPaging::cursor),
      updated_at_required_(!config.updated_since_param.empty()),
      items_(config.items_field),
      sku_(config.sku_field),
      quantity_(config.quantity_field),
      updated_at_(config.updated_at_field),
      next_cursor_(config.next_cursor_field),
      items_label_(config.items_field) {
  feed_.origin = origin_;
  if (!config.location_field.empty()) {
    location_.emplace(config.location_field);
    locations_.emplace(config.locations);
  }
}

JsonPage JsonFeedBuilder::add_page(std::string_view body, std::uint64_t page) {
  const std::string where = origin_ + ": page " + std::to_string(page) + ": ";
  json::error_code ec;
  const json::value root = json::parse(body, ec);
  if (ec) throw WarehouseError(where + "the body is not JSON (" + ec.message() + ")");

  JsonPage out;
  if (cursor_paging_) {
    const json::value* next = next_cursor_.find(root);
    if (next != nullptr && !next->is_null()) {
      auto text = scalar_text(next);
      if (!text)
        throw WarehouseError(where + "the next cursor at " +
                             quote_for_message(next_cursor_.text()) + " is " + kind_of(*next) +
                             ", not a string or an integer");
      if (!text->empty()) out.next_cursor = std::move(*text);
    }
  }

  const json::value* items = items_.find(root);
  if (items == nullptr || (!items->is_array() && !items->is_null())) {
    const std::string at =
        items_.empty() ? "the body is " : "the field " + quote_for_message(items_.text()) + " is ";
    throw WarehouseError(where + "expected a list of items: " + at +
                         (items == nullptr ? "absent" : kind_of(*items)));
  }
  if (items->is_null()) return out;
  const json::array& list = items->get_array();
  out.items = list.size();
  for (std::size_t i = 0; i < list.size(); ++i) add_item(list[i], page, i);
  return out;
}

void JsonFeedBuilder::add_item(const json::value& item, std::uint64_t page, std::size_t index) {
  const std::uint64_t line = ++ordinal_;
  std::string where =
      "page " + std::to_string(page) + ", " + items_label_ + "[" + std::to_string(index) + "]: ";

  // Before any check, so that newest_update() counts problem items too.
  const json::value* updated_at_value = updated_at_.find(item);
  const auto updated_at = note_updated_at(updated_at_value);

  if (!item.is_object()) {
    add_problem(feed_, line, {}, where + "expected an object, got " + kind_of(item));
    return;
  }
  Feed* target = feed_for(item);
  if (target == nullptr) return;
  Feed& feed = *target;

  const json::value* sku_value = sku_.find(item);
  const auto sku_text = scalar_text(sku_value);
  const std::string_view sku = sku_text ? trim(*sku_text) : std::string_view{};
  if (sku.empty()) {
    add_problem(feed, line, {},
                where + (sku_text ? "no SKU (blank)" : missing_sku(sku_value, sku_.text())));
    return;
  }
  if (!check_sku(feed, line, sku, where)) return;
  where += "SKU " + quote_for_message(sku) + ": ";

  if (updated_at_required_ && !updated_at) {
    add_problem(feed, line, sku, where + updated_at_problem(updated_at_value, updated_at_.text()));
    return;
  }

  Quantity quantity = 0;
  if (auto problem = read_quantity(quantity_.find(item), quantity_.text(), quantity)) {
    add_problem(feed, line, sku, where + *problem);
    return;
  }
  feed.rows.push_back(FeedRow{std::string(sku), quantity, line});
}

std::optional<std::chrono::sys_seconds> JsonFeedBuilder::note_updated_at(const json::value* value) {
  if (value == nullptr || !value->is_string()) return std::nullopt;
  auto updated_at = parse_rfc3339(value->get_string());
  if (updated_at && (!newest_ || *updated_at > *newest_)) newest_ = updated_at;
  return updated_at;
}

Feed* JsonFeedBuilder::feed_for(const json::value& item) {
  if (!locations_) return &feed_;
  const auto location = scalar_text(location_->find(item));
  const std::string_view name = location ? trim(*location) : std::string_view{};
  if (!locations_->wanted(name)) return nullptr;
  return &locations_->at(name);
}

Feed JsonFeedBuilder::finish() {
  return finish_rows(feed_, duplicates_, locations_);
}

}  // namespace pb::connectors
