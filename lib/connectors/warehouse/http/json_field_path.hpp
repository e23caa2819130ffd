// Where a value sits in a JSON document, written as the configuration names it: dotted field
// names ("stock.available"), a segment of digits indexing a list ("locations.0.qty").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

namespace pb::connectors {

class JsonFieldPath {
 public:
  // "" is the value itself. Throws std::invalid_argument for an empty segment ("a..b", ".a").
  explicit JsonFieldPath(std::string_view text);

  // The value at the path, or null when a field is absent or the path goes through something
  // that is neither an object nor a list. A JSON null is returned as a value (is_null()).
  const boost::json::value* find(const boost::json::value& root) const;

  const std::string& text() const { return text_; }
  bool empty() const { return segments_.empty(); }

 private:
  std::string text_;
  std::vector<std::string> segments_;
};

}  // namespace pb::connectors
