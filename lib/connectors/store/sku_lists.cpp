#include "connectors/store/sku_lists.hpp"

#include "net/url.hpp"

namespace pb::connectors {

std::vector<std::string> sku_lists(const std::vector<std::string>& skus, std::string_view separator,
                                   std::size_t max_skus, std::size_t max_chars) {
  std::vector<std::string> values;
  std::string value;
  std::size_t in_value = 0;
  for (const auto& sku : skus) {
    if (sku.empty() || sku.find(',') != std::string::npos) continue;
    const auto encoded = net::url_encode(sku);
    if (in_value > 0 &&
        (in_value == max_skus || value.size() + separator.size() + encoded.size() > max_chars)) {
      values.push_back(std::move(value));
      value.clear();
      in_value = 0;
    }
    if (in_value > 0) value += separator;
    value += encoded;
    ++in_value;
  }
  if (in_value > 0) values.push_back(std::move(value));
  return values;
}

}  // namespace pb::connectors
