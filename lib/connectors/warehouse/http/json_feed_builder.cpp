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

  std::optional<std::chrono::sys_seconds> updated_at;
  const json::value* updated_at_value = updated_at_.find(item);
  if (updated_at_value != nullptr && updated_at_value->is_string()) {
    updated_at = parse_rfc3339(updated_at_value->get_string());
    if (updated_at && (!newest_ || *updated_at > *newest_)) newest_ = updated_at;
  }

  if (!item.is_object()) {
    add_problem(feed_, line, {}, where + "expected an object, got " + kind_of(item));
    return;
  }
  Feed* target = &feed_;
  if (locations_) {
    const auto location = scalar_text(location_->find(item));
    const std::string_view name = location ? trim(*location) : std::string_view{};
    if (!locations_->wanted(name)) return;
    target = &locations_->at(name);
  }
  Feed& feed = *target;

  const json::value* sku_value = sku_.find(item);
  const auto sku_text = scalar_text(sku_value);
  if (!sku_text) {
    add_problem(feed, line, {},
                where + "no SKU (" + quote_for_message(sku_.text()) + " is " +
                    (sku_value == nullptr ? "absent" : kind_of(*sku_value)) + ")");
    return;
  }
  const std::string_view sku = trim(*sku_text);
  if (sku.empty()) {
    add_problem(feed, line, {}, where + "no SKU (blank)");
    return;
  }
  where += "SKU " + quote_for_message(sku) + ": ";

  if (updated_at_required_ && !updated_at) {
    add_problem(feed, line, sku,
                where + (updated_at_value == nullptr
                             ? "no " + quote_for_message(updated_at_.text()) +
                                   " (needed for incremental reads)"
                             : quote_for_message(updated_at_.text()) + " " +
                                   shown(*updated_at_value) + " is not an RFC 3339 time"));
    return;
  }

  const json::value* q = quantity_.find(item);
  Quantity quantity = 0;
  if (q == nullptr) {
    add_problem(feed, line, sku,
                where + "no quantity (" + quote_for_message(quantity_.text()) + " is absent)");
    return;
  }
  if (const auto* i = q->if_int64()) {
    quantity = *i;
  } else if (q->is_uint64()) {
    add_problem(feed, line, sku, where + "quantity " + shown(*q) + " is out of range");
    return;
  } else if (const auto* d = q->if_double()) {
    // 12.0 is an integer written by a tool that knows only doubles; 2^53 is where doubles stop
    // holding every integer.
    if (!std::isfinite(*d) || std::trunc(*d) != *d) {
      add_problem(feed, line, sku, where + "quantity " + shown(*q) + " is not an integer");
      return;
    }
    if (std::fabs(*d) > 9007199254740992.0) {
      add_problem(feed, line, sku, where + "quantity " + shown(*q) + " is out of range");
      return;
    }
    quantity = static_cast<Quantity>(*d);
  } else if (const auto* s = q->if_string()) {
    const std::string_view text = trim(*s);
    if (text.empty()) {
      add_problem(feed, line, sku, where + "blank quantity (blank is not zero)");
      return;
    }
    switch (parse_quantity(text, quantity)) {
      case QuantityParse::ok:
        break;
      case QuantityParse::not_integer:
        add_problem(feed, line, sku, where + "quantity " + shown(*q) + " is not an integer");
        return;
      case QuantityParse::out_of_range:
        add_problem(feed, line, sku, where + "quantity " + shown(*q) + " is out of range");
        return;
    }
  } else if (q->is_null()) {
    add_problem(feed, line, sku, where + "quantity is null (null is not zero)");
    return;
  } else {
    add_problem(feed, line, sku,
                where + "quantity " + shown(*q) + " is " + kind_of(*q) + ", not a number");
    return;
  }
  feed.rows.push_back(FeedRow{std::string(sku), quantity, line});
}

Feed JsonFeedBuilder::finish() {
  return finish_rows(feed_, duplicates_, locations_);
}

}  // namespace pb::connectors
