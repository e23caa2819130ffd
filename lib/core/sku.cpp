#include "core/sku.hpp"

#include "core/utf8.hpp"

namespace pb {

std::optional<std::string> sku_problem(std::string_view sku) {
  if (sku.size() > kMaxSkuBytes)
    return "is longer than " + std::to_string(kMaxSkuBytes) + " bytes (" +
           std::to_string(sku.size()) + ")";
  if (!utf8::is_valid(sku)) return std::string("is not valid UTF-8");
  return std::nullopt;
}

}  // namespace pb
