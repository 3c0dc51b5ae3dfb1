// Calico's label-selector language: parse once, evaluate against label maps many times.
// A Selector also has a canonical string (identical for equivalent spellings such as
// `a=='x'&&b=='y'` and `a == "x" && b == "y"`), which later names ipsets.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "common/result.h"

namespace brindle::selector {

class Node;  // AST node (ast.h)
using NodePtr = std::unique_ptr<Node>;

// Immutable once built, so one Selector may be evaluated from many threads at once.
class Selector {
 public:
  // all(): what an absent selector means in Calico resources.
  Selector();

  // Parses `text`. An empty or all-blank text is all(). On error (kInvalid) the message names
  // the 1-based column, e.g. `col 12: expected ')' but found end of selector`.
  static Result<Selector> parse(std::string_view text);

  // A selector built in code with the builders of ast.h.
  explicit Selector(NodePtr root);

  // True if `labels` satisfy the selector. Does not allocate.
  bool matches(const Labels& labels) const;

  // The canonical spelling; parse(canonical()) gives an equal selector.
  const std::string& canonical() const { return canonical_; }

  // Every label key the selector looks at, sorted and unique. A label change touching none of
  // them cannot change whether an endpoint matches.
  const std::vector<std::string>& labelKeys() const { return labelKeys_; }

  // The syntax tree, for callers that analyse selectors (ast.h).
  const Node& root() const { return *root_; }

  bool operator==(const Selector& other) const { return canonical_ == other.canonical_; }

 private:
  std::shared_ptr<const Node> root_;
  std::string canonical_;
  std::vector<std::string> labelKeys_;
};

}  // namespace brindle::selector
