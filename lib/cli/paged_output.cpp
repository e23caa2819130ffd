#include "cli/paged_output.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "cli/output.hpp"
#include "cli/reply_fields.hpp"

namespace pb::cli {

namespace json = boost::json;

PagedOutput::PagedOutput(control::CommandId command, bool json) : command_(command), json_(json) {
  if (command == control::CommandId::inventory) list_key_ = "items";
  if (command == control::CommandId::diff) list_key_ = "changes";
  event_name_ = list_key_;
}

std::string PagedOutput::print(const json::array& list, bool first) {
  std::string out;
  if (json_) {
    if (first) out += "{\n  " + json::serialize(json::string(list_key_)) + ": [";
    for (const json::value& element : list) {
      out += shown_ == 0 ? "\n    " : ",\n    ";
      out += format_json_at(element, 4);
      ++shown_;
    }
    return out;
  }
  const bool inventory = command_ == control::CommandId::inventory;
  const auto columns = inventory ? inventory_columns() : diff_columns();
  const auto rows = inventory ? inventory_rows(list) : diff_rows(list);
  if (first) {
    widths_ = column_widths(columns, rows);
    out += render_header(columns, widths_);
  }
  shown_ += list.size();
  return out + render_rows(columns, widths_, rows);
}

std::optional<std::string> PagedOutput::page(const control::Event& event) {
  if (list_key_.empty() || event.name != event_name_) return std::nullopt;
  const bool first = !started_;
  started_ = true;
  return print(array_at(event.data, list_key_), first);
}

std::string PagedOutput::finish(const json::value& data) {
  std::string out = print(array_at(data, list_key_), !started_);
  if (json_) {
    out += shown_ == 0 ? "]" : "\n  ]";
    if (const json::object* o = data.if_object())
      for (const auto& [key, value] : *o)
        if (key != list_key_)
          out += ",\n  " + json::serialize(json::string(key)) + ": " + format_json_at(value, 2);
    return out + "\n}\n";
  }
  return out + (command_ == control::CommandId::inventory ? inventory_footer(data, shown_)
                                                          : diff_footer(data, shown_));
}

}  // namespace pb::cli
