// beectl's tables: a header row and left- or right-aligned columns as wide as
// their widest cell, two spaces apart, no trailing blanks. A table printed in
// pages keeps the widths of its first page (a wider cell later pushes its row).
#pragma once

#include <cstddef>
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

// The widths render_table would use for `rows`.
std::vector<std::size_t> column_widths(std::span<const Column> columns,
                                       const std::vector<std::vector<std::string>>& rows);
// The header row at `widths`.
std::string render_header(std::span<const Column> columns, std::span<const std::size_t> widths);
// `rows` at `widths`, without the header.
std::string render_rows(std::span<const Column> columns, std::span<const std::size_t> widths,
                        const std::vector<std::vector<std::string>>& rows);

}  // namespace pb::cli
