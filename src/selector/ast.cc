// Evaluation and canonical spelling of selector syntax-tree nodes. The canonical form is the one
// Calico writes (`(a == "x" && !has(b))`), so equal selectors get equal ipset names in both.
#include "selector/ast.h"

#include <algorithm>

#include "selector/tokenizer.h"

namespace brindle::selector {
namespace {

// Looks the key up without building a std::string (Labels has a transparent comparator).
const std::string* findLabel(const Labels& labels, const std::string& key) {
  auto it = labels.find(std::string_view(key));
  return it == labels.end() ? nullptr : &it->second;
}

const char* valueOpText(ValueOp op) {
  static constexpr const char* kTexts[] = {" == ", " != ", " contains ", " starts with ",
                                           " ends with "};  // ValueOp's order
  return kTexts[static_cast<int>(op)];
}

}  // namespace

std::string Node::canonical() const {
  std::string out;
  appendCanonical(out);
  return out;
}

bool HasNode::evaluate(const Labels& labels) const { return findLabel(labels, key_) != nullptr; }

void HasNode::appendCanonical(std::string& out) const {
  out += "has(";
  out += key_;
  out += ')';
}

bool LabelValueNode::evaluate(const Labels& labels) const {
  const std::string* found = findLabel(labels, key_);
  if (found == nullptr) return op_ == ValueOp::kNe;
  std::string_view actual = *found;
  switch (op_) {
    case ValueOp::kEq:
      return actual == value_;
    case ValueOp::kNe:
      return actual != value_;
    case ValueOp::kContains:
      return actual.find(value_) != std::string_view::npos;
    case ValueOp::kStartsWith:
      return actual.starts_with(value_);
    case ValueOp::kEndsWith:
      return actual.ends_with(value_);
  }
  return false;
}

void LabelValueNode::appendCanonical(std::string& out) const {
  out += key_;
  out += valueOpText(op_);
  appendQuoted(out, value_);
}

LabelSetNode::LabelSetNode(std::string key, SetOp op, std::vector<std::string> values)
    : key_(std::move(key)), op_(op), values_(std::move(values)) {
  std::sort(values_.begin(), values_.end());
  values_.erase(std::unique(values_.begin(), values_.end()), values_.end());
}

bool LabelSetNode::contains(std::string_view value) const {
  auto it = std::lower_bound(values_.begin(), values_.end(), value,
                             [](const std::string& a, std::string_view b) { return a < b; });
  return it != values_.end() && *it == value;
}

bool LabelSetNode::evaluate(const Labels& labels) const {
  const std::string* found = findLabel(labels, key_);
  bool in = found != nullptr && contains(*found);
  return op_ == SetOp::kIn ? in : !in;
}

void LabelSetNode::appendCanonical(std::string& out) const {
  out += key_;
  out += op_ == SetOp::kIn ? " in {" : " not in {";
  for (std::size_t i = 0; i < values_.size(); ++i) {
    if (i > 0) out += ", ";
    appendQuoted(out, values_[i]);
  }
  out += '}';
}

void NotNode::appendCanonical(std::string& out) const {
  out += '!';
  operand_->appendCanonical(out);
}

bool JunctionNode::evaluate(const Labels& labels) const {
  auto holds = [&](const NodePtr& operand) { return operand->evaluate(labels); };
  return kind_ == NodeKind::kAnd ? std::ranges::all_of(operands_, holds)
                                 : std::ranges::any_of(operands_, holds);
}

void JunctionNode::appendCanonical(std::string& out) const {
  out += '(';
  for (std::size_t i = 0; i < operands_.size(); ++i) {
    if (i > 0) out += kind_ == NodeKind::kAnd ? " && " : " || ";
    operands_[i]->appendCanonical(out);
  }
  out += ')';
}

void JunctionNode::appendLabelKeys(std::vector<std::string>& keys) const {
  for (const NodePtr& operand : operands_) operand->appendLabelKeys(keys);
}

NodePtr hasLabel(std::string key) { return std::make_unique<HasNode>(std::move(key)); }

NodePtr labelEquals(std::string key, std::string value) {
  return std::make_unique<LabelValueNode>(std::move(key), ValueOp::kEq, std::move(value));
}

NodePtr negate(NodePtr operand) {
  if (operand->kind() == NodeKind::kNot) return static_cast<NotNode&>(*operand).takeOperand();
  return std::make_unique<NotNode>(std::move(operand));
}

NodePtr allOf(std::vector<NodePtr> operands) {
  if (operands.size() == 1) return std::move(operands.front());
  return std::make_unique<JunctionNode>(NodeKind::kAnd, std::move(operands));
}

NodePtr anyOf(std::vector<NodePtr> operands) {
  if (operands.size() == 1) return std::move(operands.front());
  return std::make_unique<JunctionNode>(NodeKind::kOr, std::move(operands));
}

NodePtr withPrefix(const Node& node, std::string_view prefix) {
  auto key = [&](const std::string& k) { return std::string(prefix) + k; };
  switch (node.kind()) {
    case NodeKind::kAll:
    case NodeKind::kGlobal:
      return std::make_unique<ConstantNode>(node.kind());
    case NodeKind::kHas:
      return hasLabel(key(static_cast<const HasNode&>(node).key()));
    case NodeKind::kLabelValue: {
      const auto& n = static_cast<const LabelValueNode&>(node);
      return std::make_unique<LabelValueNode>(key(n.key()), n.op(), n.value());
    }
    case NodeKind::kLabelSet: {
      const auto& n = static_cast<const LabelSetNode&>(node);
      return std::make_unique<LabelSetNode>(key(n.key()), n.op(), n.values());
    }
    case NodeKind::kNot:
      return negate(withPrefix(static_cast<const NotNode&>(node).operand(), prefix));
    case NodeKind::kAnd:
    case NodeKind::kOr: {
      std::vector<NodePtr> operands;
      for (const NodePtr& operand : junctionOperands(node)) {
        operands.push_back(withPrefix(*operand, prefix));
      }
      return node.kind() == NodeKind::kAnd ? allOf(std::move(operands))
                                           : anyOf(std::move(operands));
    }
  }
  return std::make_unique<ConstantNode>(NodeKind::kAll);
}

}  // namespace brindle::selector
