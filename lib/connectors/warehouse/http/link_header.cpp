#include "connectors/warehouse/http/link_header.hpp"

#include <algorithm>
#include <cctype>

namespace pb::connectors {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool done() const { return at_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[at_]; }
  void skip_spaces() {
    while (!done() && is_space(text_[at_])) ++at_;
  }
  bool take(char c) {
    if (peek() != c || done()) return false;
    ++at_;
    return true;
  }

  // Up to (not including) `end`; false, consuming nothing, if there is none.
  bool until(char end, std::string& out) {
    const auto found = text_.find(end, at_);
    if (found == std::string_view::npos) return false;
    out.assign(text_.substr(at_, found - at_));
    at_ = found + 1;
    return true;
  }

  // A token (or an unquoted value): up to a space, '=', ';' or ','.
  std::string token() {
    const auto start = at_;
    while (!done() && !is_space(text_[at_]) && text_[at_] != '=' && text_[at_] != ';' &&
           text_[at_] != ',')
      ++at_;
    return std::string(text_.substr(start, at_ - start));
  }

  // After the opening quote: the content, backslash escapes undone. An unterminated string
  // runs to the end.
  std::string quoted() {
    std::string out;
    while (!done()) {
      const char c = text_[at_++];
      if (c == '"') break;
      if (c == '\\' && !done()) {
        out += text_[at_++];
        continue;
      }
      out += c;
    }
    return out;
  }

  // To just after the next comma outside a quoted string or <...>, or to the end.
  void skip_link() {
    bool in_quotes = false;
    bool in_angles = false;
    while (!done()) {
      const char c = text_[at_++];
      if (in_quotes) {
        if (c == '\\' && !done())
          ++at_;
        else if (c == '"')
          in_quotes = false;
      } else if (in_angles) {
        in_angles = c != '>';
      } else if (c == '"') {
        in_quotes = true;
      } else if (c == '<') {
        in_angles = true;
      } else if (c == ',') {
        return;
      }
    }
  }

 private:
  std::string_view text_;
  std::size_t at_ = 0;
};

// The parameters after a link's target, up to the comma that ends it. False when something
// that is not a parameter follows (the caller skips the rest of that link).
bool read_params(Scanner& in, LinkValue& link) {
  for (;;) {
    in.skip_spaces();
    if (in.done() || in.take(',')) return true;
    if (!in.take(';')) return false;
    in.skip_spaces();
    if (in.done() || in.peek() == ',' || in.peek() == ';') continue;  // an empty parameter
    std::string name = in.token();
    if (name.empty()) return false;
    std::transform(name.begin(), name.end(), name.begin(), lower);
    in.skip_spaces();
    std::string value;
    if (in.take('=')) {
      in.skip_spaces();
      value = in.take('"') ? in.quoted() : in.token();
    }
    link.params.emplace_back(std::move(name), std::move(value));
  }
}

}  // namespace

const std::string* LinkValue::param(std::string_view name) const {
  for (const auto& [key, value] : params)
    if (key == name) return &value;
  return nullptr;
}

bool LinkValue::has_rel(std::string_view relation) const {
  const std::string* rel = param("rel");
  if (rel == nullptr) return false;
  std::string_view rest = *rel;
  while (!rest.empty()) {
    while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
    auto end = rest.find_first_of(" \t");
    if (end == std::string_view::npos) end = rest.size();
    if (end > 0 && iequals(rest.substr(0, end), relation)) return true;
    rest.remove_prefix(end);
  }
  return false;
}

std::vector<LinkValue> parse_link_header(std::string_view value) {
  std::vector<LinkValue> links;
  Scanner in(value);
  for (;;) {
    in.skip_spaces();
    while (in.take(',')) in.skip_spaces();
    if (in.done()) break;
    LinkValue link;
    if (!in.take('<') || !in.until('>', link.target)) {
      in.skip_link();
      continue;
    }
    if (!read_params(in, link)) {
      in.skip_link();
      continue;
    }
    links.push_back(std::move(link));
  }
  return links;
}

std::optional<std::string> find_link(const std::vector<net::Header>& headers,
                                     std::string_view relation) {
  for (const auto& header : headers) {
    if (!iequals(header.name, "Link")) continue;
    for (auto& link : parse_link_header(header.value))
      if (link.has_rel(relation)) return std::move(link.target);
  }
  return std::nullopt;
}

}  // namespace pb::connectors
