// beectl's tables: a header row and left- or right-aligned columns as wide as
// their widest cell, two spaces apart, no trailing blanks.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pb::cli {

struct Column {
  std::string_view name;
  bool right_aligned;
};

// Every row has one cell per column.
std::string render_table(std::span<const Column> columns,
                         const std::vector<std::vector<std::string>>& rows);

}  // namespace pb::cli
