// Column-aligned tables as calicoctl prints them (Go's tabwriter with padding 3): each column as
// wide as its widest cell plus three spaces; the last column is not padded; no trailing blanks.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace brindle::cli {

using Row = std::vector<std::string>;

void printTable(std::ostream& out, const Row& header, const std::vector<Row>& rows);

}  // namespace brindle::cli
