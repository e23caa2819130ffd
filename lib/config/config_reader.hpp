// Walks a parsed YAML document against the schema tables (config_schema.hpp): converts and checks
// every value and turns each problem into a ConfigError naming file, line, column and key path.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "config/config_schema.hpp"

namespace pb::config {

class Reader {
 public:
  struct Entry {
    YAML::Node key;
    YAML::Node value;
    std::string name;
  };

  // Keeps a key on the path that errors report for as long as it lives.
  class [[nodiscard]] Scope {
   public:
    Scope(Reader& reader, std::string_view key, const YAML::Node& key_node);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Reader& reader_;
  };

  Reader(std::string file_name, std::filesystem::path base_dir);

  // Applies `fields` to `out`: every key of `node` must be in the table; absent keys get their
  // default. A null node reads as an empty map.
  template <class T>
  void section(const YAML::Node& node, std::type_identity_t<std::span<const Field<T>>> fields,
               T& out);

  // The next section() call skips these keys of its map: the level above reads them from the
  // same map (a warehouse's `name:` beside its connector's keys).
  void skip_in_next_section(std::vector<std::string_view> keys) { skipped_ = std::move(keys); }

  // Reads the `type:` key of `node` (`what` names the section in messages) and hands the node to
  // the matching alternative.
  template <class V>
  void select(const YAML::Node& node, std::string_view what,
              std::type_identity_t<std::span<const Alternative<V>>> alternatives, V& out);

  // Calls f(entry) for every entry of the map `node`, in file order, with the entry's key on the
  // path. `noun` names the keys in messages ("key", "connection name").
  template <class F>
  void entries(const YAML::Node& node, std::string_view noun, F&& f);

  // Calls f(item, index) for every item of the sequence `node`, with "[index]" (0-based) on the
  // path. A null node is an empty sequence.
  template <class F>
  void items(const YAML::Node& node, std::string_view noun, F&& f);

  // A sequence of non-empty strings (a single string reads as a list of one). Errors name the
  // item ("inventory.listings.include[2]").
  std::vector<std::string> strings(const YAML::Node& node, std::string_view noun);

  // One scalar of `kind`, converted and checked as a schema field would be.
  Value scalar(const YAML::Node& node, Kind kind, std::int64_t min = 0, std::int64_t max = 0);

  Scope enter(std::string_view key, const YAML::Node& key_node) {
    return Scope(*this, key, key_node);
  }

  // `leaf`, when given, is appended to the current key path.
  [[noreturn]] void fail(const YAML::Node& at, std::string_view leaf, std::string message) const;
  [[noreturn]] void fail_at(const YAML::Node& at, std::string key_path, std::string message) const;
  std::string key_path(std::string_view leaf = {}) const;

  // The value of `key` in the map `node`, if present (no YAML::Node::operator[], which can
  // rebind nodes and throws on lookups through missing keys).
  static std::optional<YAML::Node> child(const YAML::Node& node, std::string_view key);
  // How a node appears in messages: a quoted, escaped scalar, "a list", "a map" or "nothing".
  static std::string describe(const YAML::Node& node);

 private:
  struct Frame {
    std::string key;
    YAML::Mark mark;
  };

  struct Rule {
    Kind kind;
    std::int64_t min;
    std::int64_t max;
    std::span<const std::string_view> choices;
    std::string_view forbidden;
  };
  template <class T>
  static Rule rule_of(const Field<T>& f) {
    return {f.kind, f.min, f.max, f.choices, f.forbidden};
  }

  std::vector<Entry> collect(const YAML::Node& node, std::string_view noun) const;
  Scope enter_index(std::size_t index, const YAML::Node& item);
  Value convert(const YAML::Node& node, const Rule& rule) const;
  Value convert_default(std::string_view key, std::string_view text, const Rule& rule) const;
  [[noreturn]] void unknown_key(const Entry& entry,
                                const std::vector<std::string_view>& known) const;
  [[noreturn]] void missing_key(const YAML::Node& parent, std::string_view key,
                                std::string_view description) const;
  std::size_t choose(const YAML::Node& node, std::string_view what,
                     const std::vector<std::string_view>& types) const;
  YAML::Mark locate(const YAML::Node& node) const;

  std::string file_name_;
  std::filesystem::path base_dir_;
  std::vector<Frame> path_;
  std::vector<std::string_view> skipped_;
};

template <class T>
void Reader::section(const YAML::Node& node, std::type_identity_t<std::span<const Field<T>>> fields,
                     T& out) {
  const std::vector<Entry> found = collect(node, "key");
  const std::vector<std::string_view> skipped = std::exchange(skipped_, {});
  std::vector<bool> seen(fields.size(), false);
  for (const Entry& entry : found) {
    if (std::find(skipped.begin(), skipped.end(), entry.name) != skipped.end()) continue;
    std::size_t i = 0;
    while (i < fields.size() && fields[i].key != entry.name) ++i;
    if (i == fields.size()) {
      std::vector<std::string_view> known;
      for (const Field<T>& f : fields) known.push_back(f.key);
      known.insert(known.end(), skipped.begin(), skipped.end());
      unknown_key(entry, known);
    }
    seen[i] = true;
    const Field<T>& field = fields[i];
    const Scope scope = enter(entry.name, entry.key);
    if (field.load != nullptr) {
      field.load(out, entry.value, *this);
    } else if (field.kind != Kind::selector) {
      const Value value = convert(entry.value, rule_of(field));
      if (field.set != nullptr) field.set(out, value);
    }
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (seen[i]) continue;
    const Field<T>& field = fields[i];
    if (field.required) missing_key(node, field.key, field.description);
    if (field.load != nullptr) {
      const Scope scope = enter(field.key, YAML::Node());
      field.load(out, YAML::Node(YAML::NodeType::Null), *this);
    } else if (field.set != nullptr && !field.default_value.empty()) {
      field.set(out, convert_default(field.key, field.default_value, rule_of(field)));
    }
  }
}

template <class V>
void Reader::select(const YAML::Node& node, std::string_view what,
                    std::type_identity_t<std::span<const Alternative<V>>> alternatives, V& out) {
  std::vector<std::string_view> types;
  for (const Alternative<V>& a : alternatives) types.push_back(a.type);
  alternatives[choose(node, what, types)].load(out, node, *this);
}

template <class F>
void Reader::items(const YAML::Node& node, std::string_view noun, F&& f) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsSequence())
    fail(node, {}, "expected a list of " + std::string(noun) + "s, got " + describe(node));
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const Scope scope = enter_index(i, item);
    f(item, i);
  }
}

template <class F>
void Reader::entries(const YAML::Node& node, std::string_view noun, F&& f) {
  for (const Entry& entry : collect(node, noun)) {
    const Scope scope = enter(entry.name, entry.key);
    f(entry);
  }
}

}  // namespace pb::config
