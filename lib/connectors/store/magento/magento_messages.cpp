#include "connectors/store/magento/magento_messages.hpp"

#include <charconv>
#include <string>

namespace pb::connectors {
namespace {

namespace json = boost::json;

// A store message longer than this is cut: it goes into logs and `beectl status`.
constexpr std::size_t kMaxText = 400;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::string scalar_text(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_bool()) return v.get_bool() ? "true" : "false";
  if (v.is_double()) {
    auto text = std::to_string(v.get_double());
    while (text.ends_with('0')) text.pop_back();
    if (text.ends_with('.')) text.pop_back();
    return text;
  }
  return {};
}

// The value a placeholder name stands for, if `parameters` has one.
const json::value* lookup(const json::value& parameters, std::string_view name) {
  if (parameters.is_object()) return parameters.get_object().if_contains(name);
  if (!parameters.is_array() || name.empty() || name.front() == '0') return nullptr;
  std::size_t index = 0;
  const auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), index);
  if (ec != std::errc() || ptr != name.data() + name.size()) return nullptr;
  const auto& list = parameters.get_array();
  return index >= 1 && index <= list.size() ? &list[index - 1] : nullptr;
}

std::string message_of(const json::object& object) {
  const auto* message = object.if_contains("message");
  if (message == nullptr || !message->is_string()) return {};
  return substitute_placeholders(message->get_string(), object.if_contains("parameters"));
}

// The number after `prefix` where `text` has it, if positive.
std::optional<std::size_t> number_after(std::string_view text, std::string_view prefix) {
  const auto at = text.find(prefix);
  if (at == std::string_view::npos) return std::nullopt;
  const auto* begin = text.data() + at + prefix.size();
  std::size_t value = 0;
  const auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), value);
  if (ec != std::errc() || ptr == begin || value == 0) return std::nullopt;
  return value;
}

}  // namespace

std::string substitute_placeholders(std::string_view message, const json::value* parameters) {
  if (parameters == nullptr || !(parameters->is_object() || parameters->is_array()))
    return std::string(message);
  std::string out;
  out.reserve(message.size());
  std::size_t i = 0;
  while (i < message.size()) {
    if (message[i] != '%') {
      out += message[i++];
      continue;
    }
    std::size_t end = i + 1;
    while (end < message.size() && is_name_char(message[end])) ++end;
    // The longest name that has a value: "%10" is the tenth, "%1x" the first then "x".
    bool replaced = false;
    for (std::size_t stop = end; stop > i + 1; --stop) {
      if (const auto* value = lookup(*parameters, message.substr(i + 1, stop - i - 1))) {
        out += scalar_text(*value);
        i = stop;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += message[i++];
  }
  return out;
}

std::string error_text(const json::value& body) {
  if (!body.is_object()) return {};
  const auto& object = body.get_object();
  std::string text = message_of(object);
  if (const auto* errors = object.if_contains("errors"); errors != nullptr && errors->is_array()) {
    std::string details;
    for (const auto& error : errors->get_array()) {
      if (!error.is_object()) continue;
      auto one = message_of(error.get_object());
      if (one.empty()) continue;
      if (!details.empty()) details += "; ";
      details += one;
    }
    if (!details.empty()) text += (text.empty() ? "" : ": ") + details;
  }
  if (text.size() > kMaxText) {
    text.resize(kMaxText);
    text += "...";
  }
  return text;
}

std::optional<std::size_t> input_list_limit(std::string_view text) {
  constexpr std::string_view kHead = "Maximum items of type \"";
  const auto at = text.find(kHead);
  if (at == std::string_view::npos) return std::nullopt;
  const auto rest = text.substr(at + kHead.size());
  const auto close = rest.find("\" is ");
  if (close == std::string_view::npos) return std::nullopt;
  return number_after(rest.substr(close), "\" is ");
}

std::optional<std::size_t> page_size_limit(std::string_view text) {
  return number_after(text, "Maximum SearchCriteria pageSize is ");
}

}  // namespace pb::connectors
