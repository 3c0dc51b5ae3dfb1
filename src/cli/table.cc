// Table printing.
#include "cli/table.h"

#include <algorithm>

namespace brindle::cli {

void printTable(std::ostream& out, const Row& header, const std::vector<Row>& rows) {
  constexpr size_t kPadding = 3;
  std::vector<size_t> width(header.size(), 0);
  auto measure = [&](const Row& row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);
  auto print = [&](const Row& row) {
    std::string line;
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      line += cell;
      if (i + 1 < width.size()) line.append(width[i] + kPadding - cell.size(), ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
  };
  print(header);
  for (const auto& row : rows) print(row);
}

void printBoxed(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows,
                const std::vector<bool>& rightAligned) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  }
  std::string rule = "+";
  for (size_t w : width) rule += std::string(w + 2, '-') + "+";
  auto line = [&](const std::vector<std::string>& r, bool isHeader) {
    std::string s = "|";
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < r.size() ? r[i] : "";
      const std::string pad(width[i] - cell.size(), ' ');
      const bool right = !isHeader && i < rightAligned.size() && rightAligned[i];
      s += " " + (right ? pad + cell : cell + pad) + " |";
    }
    out << s << "\n";
  };
  out << rule << "\n";
  line(header, true);
  out << rule << "\n";
  for (const auto& r : rows) line(r, false);
  out << rule << "\n";
}

}  // namespace brindle::cli
