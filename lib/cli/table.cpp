#include "cli/table.hpp"

#include <algorithm>

#include "cli/text.hpp"

namespace pb::cli {

std::string render_table(std::span<const Column> columns,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const Column& c : columns) widths.push_back(c.name.size());
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], width(row[i]));

  std::string out;
  const auto emit = [&](std::span<const std::string> cells) {
    std::string line;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const std::string& c = cells[i];
      const std::string pad(widths[i] - width(c), ' ');
      if (i > 0) line += "  ";
      line += columns[i].right_aligned ? pad + c : c + pad;
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  };
  std::vector<std::string> header;
  for (const Column& c : columns) header.emplace_back(c.name);
  emit(header);
  for (const auto& row : rows) emit(row);
  return out;
}

}  // namespace pb::cli
