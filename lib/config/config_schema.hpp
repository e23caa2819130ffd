// The configuration schema as data (after Knot's schema.c): one table per section listing each
// key's kind, whether it is required, its default, its allowed values and what it means.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "config/config.hpp"

namespace YAML {
class Node;
}

namespace pb::config {

class Reader;

enum class Kind {
  string,          // a non-empty scalar
  path,            // relative paths are resolved against the config file's directory
  secret_file,     // a path as above, or $CREDENTIALS_DIRECTORY/NAME (systemd LoadCredential=),
                   // kept as written and expanded when the secret is read
  integer,         // a plain decimal integer in [min, max]
  duration,        // <N>s|m|h|d, in [min, max] seconds
  choice,          // one of `choices`
  character,       // exactly one character, none of `forbidden`
  section,         // a map with a table of its own
  selector,        // `type`: picks a section's table, so it is read before the walk
  named_sections,  // a map from names to sections
};

// Whether a running daemon can apply a change on reload or needs a restart.
enum class Reload { live, restart };

// What a scalar key converts to before its `set` stores it in the typed config.
using Value =
    std::variant<std::string, std::filesystem::path, std::int64_t, std::chrono::seconds, char>;

template <class T>
struct Field {
  std::string_view key;
  Kind kind;
  bool required = false;
  // Written as in the file, and applied through the same conversion when the key is absent, so
  // the documented default is the one in effect.
  std::string_view default_value = {};
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::span<const std::string_view> choices = {};
  std::string_view forbidden = {};
  Reload reload = Reload::live;
  std::string_view description = {};
  void (*set)(T& target, const Value& value) = nullptr;
  // Sections read their own node; called with a null node when an optional section is absent so
  // that its defaults apply.
  void (*load)(T& target, const YAML::Node& node, Reader& reader) = nullptr;
};

// One alternative of a `type:`-selected section (warehouse and store connectors).
template <class V>
struct Alternative {
  std::string_view type;
  std::string_view description;
  void (*load)(V& target, const YAML::Node& node, Reader& reader);
};

// The top of the file: `daemon:` and `connections:`.
std::span<const Field<Config>> root_schema();

// The `type:`s of a connection's `warehouse:` section (warehouse_schema.cpp).
std::span<const Alternative<WarehouseConfig>> warehouse_types();

// What the tables' `set` functions take out of a Value.
namespace schema {
inline const std::string& text(const Value& v) {
  return std::get<std::string>(v);
}
inline const std::filesystem::path& file(const Value& v) {
  return std::get<std::filesystem::path>(v);
}
inline std::int64_t integer(const Value& v) {
  return std::get<std::int64_t>(v);
}
inline constexpr std::int64_t kDay = 86400;
}  // namespace schema

}  // namespace pb::config
