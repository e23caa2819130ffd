#include "config/config_reader.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "config/config_loader.hpp"
#include "core/utf8.hpp"

namespace pb::config {

namespace {

// Thrown by the scalar conversions, which know what is wrong but not where; the reader adds
// the location.
struct BadValue {
  std::string message;
};

constexpr std::size_t kMaxShown = 60;

// The length of the UTF-8 sequence that starts at text[i] if it is a valid one of two bytes or
// more; 0 otherwise.
std::size_t multibyte_at(std::string_view text, std::size_t i) {
  const auto b = static_cast<unsigned char>(text[i]);
  const std::size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
  if (len == 0 || i + len > text.size()) return 0;
  return utf8::valid_prefix(text.substr(i, len)) == len ? len : 0;
}

// Shows a value as the user would recognise it, without letting control characters, bytes that
// are not UTF-8 (a binary file) or a very long value garble the message: it reaches beectl as
// JSON, which must be UTF-8.
std::string quote(std::string_view text) {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out = "\"";
  std::size_t shown = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (++shown > kMaxShown) {
      out += "...";
      break;
    }
    if (const std::size_t len = multibyte_at(text, i); len > 0) {
      out.append(text.substr(i, len));  // one character, shown as it is
      i += len - 1;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x80) {
          out += utf8::escape_invalid(std::string_view(&c, 1));  // as elsewhere: "\xE9"
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          const auto u = static_cast<unsigned char>(c);
          out += "\\x";
          out += kHex[u >> 4];
          out += kHex[u & 0xfu];
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string join(std::span<const std::string_view> words) {
  std::string out;
  for (const std::string_view w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

std::string expectation(Kind kind, std::span<const std::string_view> choices) {
  switch (kind) {
    case Kind::string:
      return "a string";
    case Kind::path:
      return "a path";
    case Kind::secret_file:
      return "a path, or $CREDENTIALS_DIRECTORY/NAME";
    case Kind::integer:
      return "an integer";
    case Kind::duration:
      return "a duration like 60m or 1h";
    case Kind::choice:
      return "one of " + join(choices);
    case Kind::character:
      return "a single character";
    case Kind::section:
    case Kind::selector:
    case Kind::named_sections:
      break;
  }
  return "a map";
}

std::string format_duration(std::int64_t seconds) {
  constexpr std::pair<std::int64_t, char> kUnits[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}};
  for (const auto& [size, unit] : kUnits)
    if (seconds != 0 && seconds % size == 0) return std::to_string(seconds / size) + unit;
  return std::to_string(seconds) + 's';
}

std::string integer_range(std::int64_t min, std::int64_t max) {
  if (max == std::numeric_limits<std::int64_t>::max()) return "at least " + std::to_string(min);
  return "between " + std::to_string(min) + " and " + std::to_string(max);
}

// Only plain decimal digits with an optional minus: YAML's 0x/0o forms, `+`, `1e3` and `1.0`
// are rejected rather than guessed at.
std::optional<std::int64_t> parse_decimal(std::string_view text, bool& overflow) {
  overflow = false;
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ptr != end || text.empty()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    overflow = true;
    return std::nullopt;
  }
  if (ec != std::errc{}) return std::nullopt;
  return value;
}

std::int64_t to_integer(std::string_view text, bool quoted, std::int64_t min, std::int64_t max) {
  if (quoted)
    throw BadValue{"expected an integer, got " + quote(text) +
                   " (quoted, so a string: remove the quotes)"};
  bool overflow = false;
  const std::optional<std::int64_t> value = parse_decimal(text, overflow);
  if (overflow) throw BadValue{"must be " + integer_range(min, max) + ", got " + std::string(text)};
  if (!value) throw BadValue{"expected an integer, got " + quote(text)};
  if (*value < min || *value > max)
    throw BadValue{"must be " + integer_range(min, max) + ", got " + std::string(text)};
  return *value;
}

std::chrono::seconds to_duration(std::string_view text, std::int64_t min, std::int64_t max) {
  const std::string expected = "expected a duration like 60m or 1h, got " + quote(text);
  const std::string out_of_range = "must be between " + format_duration(min) + " and " +
                                   format_duration(max) + ", got " + std::string(text);
  bool overflow = false;
  if (parse_decimal(text, overflow) || overflow)
    throw BadValue{expected + " (add a unit: s, m, h or d)"};
  if (text.size() < 2 || text.front() < '0' || text.front() > '9') throw BadValue{expected};
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      throw BadValue{expected};
  }
  const std::optional<std::int64_t> count =
      parse_decimal(text.substr(0, text.size() - 1), overflow);
  if (overflow) throw BadValue{out_of_range};
  if (!count) throw BadValue{expected};
  if (*count > max / unit || *count * unit < min) throw BadValue{out_of_range};
  return std::chrono::seconds(*count * unit);
}

Value to_value(std::string_view text, bool quoted, Kind kind, std::int64_t min, std::int64_t max,
               std::span<const std::string_view> choices, std::string_view forbidden,
               const std::filesystem::path& base_dir) {
  switch (kind) {
    case Kind::string:
      if (text.empty()) throw BadValue{"must not be empty"};
      return std::string(text);
    case Kind::secret_file:
      if (text.starts_with(kCredentialsPrefix)) {
        const auto name = text.substr(kCredentialsPrefix.size());
        if (name.empty() || name.find('/') != std::string_view::npos || name == "." || name == "..")
          throw BadValue{"$CREDENTIALS_DIRECTORY/ must be followed by a credential name"};
        return std::filesystem::path(text);
      }
      [[fallthrough]];
    case Kind::path: {
      if (text.empty()) throw BadValue{"must not be empty"};
      if (text.find('\0') != std::string_view::npos)
        throw BadValue{"a path cannot contain a NUL character"};
      std::filesystem::path path(text);
      if (path.is_relative() && !base_dir.empty()) path = base_dir / path;
      return path.lexically_normal();
    }
    case Kind::integer:
      return to_integer(text, quoted, min, max);
    case Kind::duration:
      return to_duration(text, min, max);
    case Kind::choice:
      if (std::find(choices.begin(), choices.end(), text) == choices.end())
        throw BadValue{"expected one of " + join(choices) + ", got " + quote(text)};
      return std::string(text);
    case Kind::character:
      if (text.size() != 1) {
        std::string message = "expected a single character, got " + quote(text);
        if (text == "\\t") message += R"( (write a tab as "\t", in double quotes))";
        throw BadValue{message};
      }
      if (forbidden.find(text.front()) != std::string_view::npos)
        throw BadValue{quote(text) + " cannot be used here"};
      return text.front();
    case Kind::section:
    case Kind::selector:
    case Kind::named_sections:
      break;
  }
  throw std::logic_error("config schema: a section kind has no scalar value");
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

int one_based(int zero_based) {
  return zero_based >= 0 ? zero_based + 1 : 0;
}

}  // namespace

Reader::Scope::Scope(Reader& reader, std::string_view key, const YAML::Node& key_node)
    : reader_(reader) {
  reader_.path_.push_back(
      Frame{std::string(key), key_node.IsDefined() ? key_node.Mark() : YAML::Mark::null_mark()});
}

Reader::Scope::~Scope() {
  reader_.path_.pop_back();
}

Reader::Reader(std::string file_name, std::filesystem::path base_dir)
    : file_name_(std::move(file_name)), base_dir_(std::move(base_dir)) {}

Reader::Scope Reader::enter_index(std::size_t index, const YAML::Node& item) {
  // "[2]" joins the key before it without a dot: warehouses[2].path.
  return Scope(*this, "[" + std::to_string(index) + "]", item);
}

std::vector<std::string> Reader::strings(const YAML::Node& node, std::string_view noun) {
  std::vector<std::string> out;
  if (node.IsDefined() && node.IsScalar()) {
    out.push_back(std::get<std::string>(scalar(node, Kind::string)));
    return out;
  }
  items(node, noun, [&](const YAML::Node& item, std::size_t) {
    out.push_back(std::get<std::string>(scalar(item, Kind::string)));
  });
  return out;
}

Value Reader::scalar(const YAML::Node& node, Kind kind, std::int64_t min, std::int64_t max) {
  return convert(node, Rule{kind, min, max, {}, {}});
}

std::string Reader::key_path(std::string_view leaf) const {
  std::string out;
  for (const Frame& frame : path_) {
    if (!out.empty() && !frame.key.starts_with('[')) out += '.';
    out += frame.key;
  }
  if (!leaf.empty()) {
    if (!out.empty()) out += '.';
    out += leaf;
  }
  return out;
}

YAML::Mark Reader::locate(const YAML::Node& node) const {
  // A null value's mark lands on whatever follows it, often the next line: the key that
  // introduced it is where the user will look.
  if (node.IsDefined() && !node.IsNull() && node.Mark().line >= 0) return node.Mark();
  for (auto frame = path_.rbegin(); frame != path_.rend(); ++frame)
    if (frame->mark.line >= 0) return frame->mark;
  return YAML::Mark::null_mark();
}

void Reader::fail(const YAML::Node& at, std::string_view leaf, std::string message) const {
  fail_at(at, key_path(leaf), std::move(message));
}

void Reader::fail_at(const YAML::Node& at, std::string path, std::string message) const {
  const YAML::Mark mark = locate(at);
  throw ConfigError(file_name_, one_based(mark.line), one_based(mark.column), std::move(path),
                    std::move(message));
}

std::string Reader::describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsScalar()) return quote(node.Scalar());
  if (node.IsSequence()) return "a list";
  return "a map";
}

std::optional<YAML::Node> Reader::child(const YAML::Node& node, std::string_view key) {
  if (!node.IsMap()) return std::nullopt;
  for (const auto& entry : node)
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
  return std::nullopt;
}

std::vector<Reader::Entry> Reader::collect(const YAML::Node& node, std::string_view noun) const {
  std::vector<Entry> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsMap())
    fail(node, {}, "expected a map of " + std::string(noun) + "s, got " + describe(node));
  for (const auto& item : node) {
    const YAML::Node& key = item.first;
    if (!key.IsScalar())
      fail(key, {}, "expected a " + std::string(noun) + ", got " + describe(key));
    std::string name = key.Scalar();
    // yaml-cpp keeps duplicate keys when iterating but a lookup sees only one of them, so a
    // repeated key would silently lose a value.
    for (const Entry& earlier : out)
      if (earlier.name == name)
        fail(key, name,
             "duplicate " + std::string(noun) + " " + quote(name) + " (first at line " +
                 std::to_string(one_based(earlier.key.Mark().line)) + ")");
    out.push_back(Entry{item.first, item.second, std::move(name)});
  }
  return out;
}

Value Reader::convert(const YAML::Node& node, const Rule& rule) const {
  const std::string expected = expectation(rule.kind, rule.choices);
  if (!node.IsDefined() || node.IsNull()) fail(node, {}, "missing value: expected " + expected);
  if (!node.IsScalar()) fail(node, {}, "expected " + expected + ", got " + describe(node));
  try {
    // yaml-cpp tags quoted and block scalars "!" and plain ones "?".
    return to_value(node.Scalar(), node.Tag() == "!", rule.kind, rule.min, rule.max, rule.choices,
                    rule.forbidden, base_dir_);
  } catch (const BadValue& bad) {
    fail(node, {}, bad.message);
  }
}

Value Reader::convert_default(std::string_view key, std::string_view text, const Rule& rule) const {
  try {
    return to_value(text, false, rule.kind, rule.min, rule.max, rule.choices, rule.forbidden,
                    base_dir_);
  } catch (const BadValue& bad) {
    throw std::logic_error("config schema: the default of " + key_path(key) +
                           " is invalid: " + bad.message);
  }
}

void Reader::unknown_key(const Entry& entry, const std::vector<std::string_view>& known) const {
  std::string_view nearest;
  std::size_t best = 3;  // further than two edits is a different word, not a typo
  for (const std::string_view k : known) {
    const std::size_t d = edit_distance(entry.name, k);
    if (d < best) {
      best = d;
      nearest = k;
    }
  }
  std::string message = "unknown key " + quote(entry.name);
  if (!nearest.empty())
    message += " (did you mean \"" + std::string(nearest) + "\"?)";
  else
    message += " (known keys: " + join(known) + ")";
  fail(entry.key, entry.name, message);
}

void Reader::missing_key(const YAML::Node& parent, std::string_view key,
                         std::string_view description) const {
  std::string message = "missing required key \"" + std::string(key) + "\"";
  if (!description.empty()) message += " (" + std::string(description) + ")";
  fail(parent, key, message);
}

std::size_t Reader::choose(const YAML::Node& node, std::string_view what,
                           const std::vector<std::string_view>& types) const {
  const std::string known = "known types: " + join(types);
  for (const Entry& entry : collect(node, "key")) {
    if (entry.name != "type") continue;
    const YAML::Node& value = entry.value;
    if (!value.IsScalar())
      fail(
          value.IsNull() ? entry.key : value, "type",
          "expected a " + std::string(what) + " type, got " + describe(value) + " (" + known + ")");
    const auto it = std::find(types.begin(), types.end(), value.Scalar());
    if (it == types.end())
      fail(value, "type",
           "unknown " + std::string(what) + " type " + quote(value.Scalar()) + " (" + known + ")");
    return static_cast<std::size_t>(it - types.begin());
  }
  missing_key(node, "type", known);
}

}  // namespace pb::config
