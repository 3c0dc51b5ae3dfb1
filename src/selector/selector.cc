// Selector: ties the parser and the syntax tree together and caches the canonical string and
// the referenced label keys, which callers ask for often.
#include "selector/selector.h"

#include <algorithm>

#include "selector/ast.h"
#include "selector/parser.h"

namespace brindle::selector {

Selector::Selector() : Selector(std::make_unique<ConstantNode>(NodeKind::kAll)) {}

Selector::Selector(NodePtr root) : root_(std::move(root)), canonical_(root_->canonical()) {
  root_->appendLabelKeys(labelKeys_);
  std::sort(labelKeys_.begin(), labelKeys_.end());
  labelKeys_.erase(std::unique(labelKeys_.begin(), labelKeys_.end()), labelKeys_.end());
}

Result<Selector> Selector::parse(std::string_view text) {
  BRINDLE_ASSIGN_OR_RETURN(auto tree, parseTree(text));
  return Selector(std::move(tree));
}

bool Selector::matches(const Labels& labels) const { return root_->evaluate(labels); }

}  // namespace brindle::selector
