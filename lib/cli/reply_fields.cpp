#include "cli/reply_fields.hpp"

#include <boost/json/serialize.hpp>

#include "cli/text.hpp"

namespace pb::cli {
namespace json = boost::json;

const json::value* field(const json::value& v, std::string_view key) {
  const json::object* o = v.if_object();
  return o != nullptr ? o->if_contains(key) : nullptr;
}

std::optional<std::int64_t> integer(const json::value& v, std::string_view key) {
  const json::value* f = field(v, key);
  if (f == nullptr) return std::nullopt;
  if (f->is_int64()) return f->get_int64();
  if (f->is_uint64()) return static_cast<std::int64_t>(f->get_uint64());
  return std::nullopt;
}

bool flag(const json::value& v, std::string_view key) {
  const json::value* f = field(v, key);
  return f != nullptr && f->is_bool() && f->get_bool();
}

std::string text(const json::value& v, std::string_view key, std::string_view fallback) {
  const json::value* f = field(v, key);
  if (f == nullptr || !f->is_string() || f->get_string().empty()) return std::string(fallback);
  return printable(f->get_string());
}

std::string cell(const json::value& v, std::string_view key) {
  const json::value* f = field(v, key);
  if (f == nullptr || f->is_null()) return "-";
  if (f->is_string()) return f->get_string().empty() ? "-" : printable(f->get_string());
  if (f->is_bool()) return f->get_bool() ? "yes" : "no";
  return printable(json::serialize(*f));
}

std::string count_text(const json::value& v, std::string_view key) {
  const std::optional<std::int64_t> n = integer(v, key);
  return n ? std::to_string(*n) : "?";
}

const json::array& array_at(const json::value& v, std::string_view key) {
  static const json::array empty;
  const json::value* f = field(v, key);
  return f != nullptr && f->is_array() ? f->get_array() : empty;
}

}  // namespace pb::cli
