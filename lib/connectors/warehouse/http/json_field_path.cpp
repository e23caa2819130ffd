#include "connectors/warehouse/http/json_field_path.hpp"

#include <charconv>
#include <stdexcept>

namespace pb::connectors {

JsonFieldPath::JsonFieldPath(std::string_view text) : text_(text) {
  if (text.empty()) return;
  for (;;) {
    const auto dot = text.find('.');
    const auto segment = text.substr(0, dot);
    if (segment.empty())
      throw std::invalid_argument("not a field path: \"" + text_ + "\" has an empty segment");
    segments_.emplace_back(segment);
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
}

const boost::json::value* JsonFieldPath::find(const boost::json::value& root) const {
  const boost::json::value* at = &root;
  for (const auto& segment : segments_) {
    if (const auto* object = at->if_object()) {
      at = object->if_contains(segment);
    } else if (const auto* array = at->if_array()) {
      std::size_t index = 0;
      const char* end = segment.data() + segment.size();
      const auto [ptr, ec] = std::from_chars(segment.data(), end, index);
      if (ec != std::errc() || ptr != end || index >= array->size()) return nullptr;
      at = &(*array)[index];
    } else {
      return nullptr;
    }
    if (at == nullptr) return nullptr;
  }
  return at;
}

}  // namespace pb::connectors
