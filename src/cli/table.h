// Column-aligned tables as calicoctl prints them (Go's tabwriter with padding 3): each column as
// wide as its widest cell plus three spaces; the last column is not padded; no trailing blanks.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace brindle::cli {

using Row = std::vector<std::string>;

void printTable(std::ostream& out, const Row& header, const std::vector<Row>& rows);

// A table boxed as calicoctl's (go-pretty default style: ipam show, node status), the columns
// marked in `rightAligned` (numbers) aligned right.
void printBoxed(std::ostream& out, const Row& header, const std::vector<Row>& rows,
                const std::vector<bool>& rightAligned);

}  // namespace brindle::cli
