#include "cli/table.hpp"

#include <algorithm>

#include "cli/text.hpp"

namespace pb::cli {
namespace {

std::string render_row(std::span<const Column> columns, std::span<const std::size_t> widths,
                       std::span<const std::string> cells) {
  std::string line;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const std::string& c = cells[i];
    const std::size_t w = width(c);
    const std::string pad(widths[i] > w ? widths[i] - w : 0, ' ');
    if (i > 0) line += "  ";
    line += columns[i].right_aligned ? pad + c : c + pad;
  }
  line.erase(line.find_last_not_of(' ') + 1);
  return line + "\n";
}

}  // namespace

std::vector<std::size_t> column_widths(std::span<const Column> columns,
                                       const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const Column& c : columns) widths.push_back(c.name.size());
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], width(row[i]));
  return widths;
}

std::string render_header(std::span<const Column> columns, std::span<const std::size_t> widths) {
  std::vector<std::string> header;
  for (const Column& c : columns) header.emplace_back(c.name);
  return render_row(columns, widths, header);
}

std::string render_rows(std::span<const Column> columns, std::span<const std::size_t> widths,
                        const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  for (const auto& row : rows) out += render_row(columns, widths, row);
  return out;
}

std::string render_table(std::span<const Column> columns,
                         const std::vector<std::vector<std::string>>& rows) {
  const std::vector<std::size_t> widths = column_widths(columns, rows);
  return render_header(columns, widths) + render_rows(columns, widths, rows);
}

}  // namespace pb::cli
