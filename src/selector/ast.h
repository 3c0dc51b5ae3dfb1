// Selector syntax tree: one node type per construct, each able to evaluate itself against labels
// (without allocating) and to write its canonical spelling.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"

namespace brindle::selector {

enum class NodeKind { kAll, kGlobal, kHas, kLabelValue, kLabelSet, kNot, kAnd, kOr };

class Node {
 public:
  virtual ~Node() = default;
  virtual NodeKind kind() const = 0;
  // True if `labels` satisfy this (sub-)expression.
  virtual bool evaluate(const Labels& labels) const = 0;
  // Appends the canonical spelling. And/Or always write their own parentheses, so a child never
  // needs extra ones and the result parses back to the same tree.
  virtual void appendCanonical(std::string& out) const = 0;
  // Appends every label key the expression looks at (may repeat).
  virtual void appendLabelKeys(std::vector<std::string>& keys) const = 0;

  std::string canonical() const;
};

using NodePtr = std::unique_ptr<Node>;

// all() (kAll: what an empty selector means) and global() (kGlobal): both match everything.
// Calico gives global() meaning only where a namespace selector decides scope (non-namespaced
// resources); that is the caller's business.
class ConstantNode final : public Node {
 public:
  explicit ConstantNode(NodeKind kind) : kind_(kind) {}
  NodeKind kind() const override { return kind_; }
  bool evaluate(const Labels&) const override { return true; }
  void appendCanonical(std::string& out) const override {
    out += kind_ == NodeKind::kGlobal ? "global()" : "all()";
  }
  void appendLabelKeys(std::vector<std::string>&) const override {}

 private:
  NodeKind kind_;  // kAll or kGlobal
};

// has(key): the label is present, whatever its value.
class HasNode final : public Node {
 public:
  explicit HasNode(std::string key) : key_(std::move(key)) {}
  NodeKind kind() const override { return NodeKind::kHas; }
  bool evaluate(const Labels& labels) const override;
  void appendCanonical(std::string& out) const override;
  void appendLabelKeys(std::vector<std::string>& keys) const override { keys.push_back(key_); }
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

// Comparisons of one label with one literal. An absent label makes every one of them false
// except `!=`, which is true (Calico's rule: "not equal to x" holds when there is no value).
enum class ValueOp { kEq, kNe, kContains, kStartsWith, kEndsWith };

class LabelValueNode final : public Node {
 public:
  LabelValueNode(std::string key, ValueOp op, std::string value)
      : key_(std::move(key)), op_(op), value_(std::move(value)) {}
  NodeKind kind() const override { return NodeKind::kLabelValue; }
  bool evaluate(const Labels& labels) const override;
  void appendCanonical(std::string& out) const override;
  void appendLabelKeys(std::vector<std::string>& keys) const override { keys.push_back(key_); }
  const std::string& key() const { return key_; }
  ValueOp op() const { return op_; }
  const std::string& value() const { return value_; }

 private:
  std::string key_;
  ValueOp op_;
  std::string value_;
};

// `key in {...}` / `key not in {...}`. An absent label is in no set, so `not in` is true for it.
enum class SetOp { kIn, kNotIn };

class LabelSetNode final : public Node {
 public:
  // `values` may be unsorted and hold duplicates; they are sorted and de-duplicated here, which
  // both fixes the canonical order and allows binary search.
  LabelSetNode(std::string key, SetOp op, std::vector<std::string> values);
  NodeKind kind() const override { return NodeKind::kLabelSet; }
  bool evaluate(const Labels& labels) const override;
  void appendCanonical(std::string& out) const override;
  void appendLabelKeys(std::vector<std::string>& keys) const override { keys.push_back(key_); }
  const std::string& key() const { return key_; }
  SetOp op() const { return op_; }
  const std::vector<std::string>& values() const { return values_; }

 private:
  bool contains(std::string_view value) const;

  std::string key_;
  SetOp op_;
  std::vector<std::string> values_;  // sorted, unique
};

// !x
class NotNode final : public Node {
 public:
  explicit NotNode(NodePtr operand) : operand_(std::move(operand)) {}
  NodeKind kind() const override { return NodeKind::kNot; }
  bool evaluate(const Labels& labels) const override { return !operand_->evaluate(labels); }
  void appendCanonical(std::string& out) const override;
  void appendLabelKeys(std::vector<std::string>& keys) const override {
    operand_->appendLabelKeys(keys);
  }
  const Node& operand() const { return *operand_; }
  // Hands the operand over (used to fold !!x into x).
  NodePtr takeOperand() { return std::move(operand_); }

 private:
  NodePtr operand_;
};

// a && b && ... (kAnd) and a || b || ... (kOr): two or more operands, evaluated left to right,
// short-circuit.
class JunctionNode final : public Node {
 public:
  JunctionNode(NodeKind kind, std::vector<NodePtr> operands)
      : kind_(kind), operands_(std::move(operands)) {}
  NodeKind kind() const override { return kind_; }
  bool evaluate(const Labels& labels) const override;
  void appendCanonical(std::string& out) const override;
  void appendLabelKeys(std::vector<std::string>& keys) const override;
  const std::vector<NodePtr>& operands() const { return operands_; }

 private:
  NodeKind kind_;  // kAnd or kOr
  std::vector<NodePtr> operands_;
};

// The operands of a JunctionNode (`node.kind()` must be kAnd or kOr).
inline const std::vector<NodePtr>& junctionOperands(const Node& node) {
  return static_cast<const JunctionNode&>(node).operands();
}

// Builders for selectors assembled in code. Each gives the tree the parser gives for the
// equivalent text, so a built selector prints (and names its ipset) as the parsed one would.
NodePtr hasLabel(std::string key);
NodePtr labelEquals(std::string key, std::string value);
// `!x`; `!!x` folds to x, as in the parser.
NodePtr negate(NodePtr operand);
// `(a && b ...)` / `(a || b ...)`; a single operand is returned as it is. Operands that are
// themselves junctions stay nested: `(x) && y` keeps its parenthesised group.
NodePtr allOf(std::vector<NodePtr> operands);
NodePtr anyOf(std::vector<NodePtr> operands);
// A copy of `node` with every label key written as prefix + key (an empty prefix copies).
NodePtr withPrefix(const Node& node, std::string_view prefix);

}  // namespace brindle::selector
