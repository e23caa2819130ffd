// Reading the members of a reply's data for display. Every reader tolerates
// a missing member or one of the wrong type (a newer or older beed), falling
// back to a placeholder rather than throwing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

namespace pb::cli {

// `v[key]`, or nullptr if `v` is not an object or has no such member.
const boost::json::value* field(const boost::json::value& v, std::string_view key);
std::optional<std::int64_t> integer(const boost::json::value& v, std::string_view key);
// True only for a JSON true.
bool flag(const boost::json::value& v, std::string_view key);
// A non-empty string member, made printable; else `fallback`.
std::string text(const boost::json::value& v, std::string_view key, std::string_view fallback);
// A table cell: strings as they are, numbers in decimal, booleans as yes/no,
// null or missing as "-".
std::string cell(const boost::json::value& v, std::string_view key);
// An integer member in decimal, or "?".
std::string count_text(const boost::json::value& v, std::string_view key);
// An array member, or an empty array.
const boost::json::array& array_at(const boost::json::value& v, std::string_view key);

}  // namespace pb::cli
