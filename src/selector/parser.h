// Recursive-descent parser from selector text to a syntax tree. Grammar, loosest first:
//   or := and ('||' and)* ; and := term ('&&' term)* ; term := '!'* (atom | '(' or ')')
#pragma once

#include <string_view>

#include "common/result.h"
#include "selector/ast.h"

namespace brindle::selector {

// Deeper nesting is refused so that parsing, evaluation and destruction (all recursive) cannot
// exhaust the stack on hostile input. Real selectors nest a handful of levels.
constexpr int kMaxNestingDepth = 100;

// Parses `text` into a tree; blank text gives all(). Errors (kInvalid) read
// `col N: expected X but found Y`, with N the 1-based byte column.
Result<NodePtr> parseTree(std::string_view text);

}  // namespace brindle::selector
