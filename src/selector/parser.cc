// Selector parser: precedence (! over && over ||) and error messages with columns. Calico's
// acceptance rules are kept exactly so both accept the same selectors.
#include "selector/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "selector/tokenizer.h"

namespace brindle::selector {
namespace {

constexpr std::string_view kTermStart = "a label, has(), all(), global(), '!' or '('";
constexpr std::string_view kOperators =
    "an operator (==, !=, in, not in, contains, starts with, ends with)";

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<NodePtr> parseAll() {
    if (peek().kind == TokenKind::kEnd)
      return NodePtr(std::make_unique<ConstantNode>(NodeKind::kAll));
    Result<NodePtr> root = parseOr(0);
    if (!root) return root;
    if (peek().kind != TokenKind::kEnd) return expected("'&&', '||' or end of selector");
    return root;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  // Never moves past kEnd, so peek() always stays valid.
  void advance() {
    if (tokens_[pos_].kind != TokenKind::kEnd) ++pos_;
  }

  Error expected(std::string_view what) const {
    return makeError(ErrorCode::kInvalid, fmt::format("col {}: expected {} but found {}",
                                                      peek().col, what, describeToken(peek())));
  }

  Result<NodePtr> parseOr(int depth) {
    return parseJoined(TokenKind::kOr, &Parser::parseAnd, anyOf, depth);
  }

  Result<NodePtr> parseAnd(int depth) {
    return parseJoined(TokenKind::kAnd, &Parser::parseTerm, allOf, depth);
  }

  // Operands read by `operand`, separated by `op` tokens, joined by `combine`.
  Result<NodePtr> parseJoined(TokenKind op, Result<NodePtr> (Parser::*operand)(int),
                              NodePtr (*combine)(std::vector<NodePtr>), int depth) {
    std::vector<NodePtr> operands;
    for (;;) {
      BRINDLE_ASSIGN_OR_RETURN(auto next, (this->*operand)(depth));
      operands.push_back(std::move(next));
      if (peek().kind != op) break;
      advance();
    }
    return combine(std::move(operands));
  }

  // A term with its leading '!'s. An even number cancels out; !(!x) also folds to x, because
  // the canonical form drops parentheses around a single term and `!!x` must mean the same.
  Result<NodePtr> parseTerm(int depth) {
    bool negated = false;
    while (peek().kind == TokenKind::kNot) {
      negated = !negated;
      advance();
    }
    Result<NodePtr> node = parseAtom(depth);
    if (!node || !negated) return node;
    return negate(std::move(node).value());
  }

  Result<NodePtr> parseAtom(int depth) {
    const Token& token = peek();
    switch (token.kind) {
      case TokenKind::kHas:
        advance();
        return hasLabel(std::string(token.text));
      case TokenKind::kAll:
        advance();
        return NodePtr(std::make_unique<ConstantNode>(NodeKind::kAll));
      case TokenKind::kGlobal:
        advance();
        return NodePtr(std::make_unique<ConstantNode>(NodeKind::kGlobal));
      case TokenKind::kLabel:
        return parseComparison();
      case TokenKind::kLParen: {
        if (depth >= kMaxNestingDepth) {
          return makeError(ErrorCode::kInvalid,
                           fmt::format("col {}: parentheses nested deeper than {} levels",
                                       token.col, kMaxNestingDepth));
        }
        advance();
        Result<NodePtr> inner = parseOr(depth + 1);
        if (!inner) return inner;
        if (peek().kind != TokenKind::kRParen) return expected("')'");
        advance();
        return inner;
      }
      default:
        return expected(kTermStart);
    }
  }

  // label <op> "value" | label [not] in {"v", ...}
  Result<NodePtr> parseComparison() {
    std::string key(peek().text);
    advance();
    TokenKind opKind = peek().kind;
    if (opKind == TokenKind::kIn || opKind == TokenKind::kNotIn) {
      advance();
      return parseSet(std::move(key), opKind == TokenKind::kIn ? SetOp::kIn : SetOp::kNotIn);
    }
    static constexpr std::pair<TokenKind, ValueOp> kValueOps[] = {
        {TokenKind::kEq, ValueOp::kEq},
        {TokenKind::kNe, ValueOp::kNe},
        {TokenKind::kContains, ValueOp::kContains},
        {TokenKind::kStartsWith, ValueOp::kStartsWith},
        {TokenKind::kEndsWith, ValueOp::kEndsWith}};
    const auto* op = std::find_if(std::begin(kValueOps), std::end(kValueOps),
                                  [&](const auto& p) { return p.first == opKind; });
    if (op == std::end(kValueOps)) {
      return expected(fmt::format("{} after label '{}'", kOperators,
                                  key.size() <= 40 ? key : key.substr(0, 40) + "..."));
    }
    advance();
    if (peek().kind != TokenKind::kString) return expected("a quoted string");
    std::string value(peek().text);
    advance();
    return NodePtr(std::make_unique<LabelValueNode>(std::move(key), op->second, std::move(value)));
  }

  // {"a", 'b', ...}; empty sets and a trailing comma are allowed, as in Calico.
  Result<NodePtr> parseSet(std::string key, SetOp op) {
    if (peek().kind != TokenKind::kLBrace) return expected("'{'");
    advance();
    std::vector<std::string> values;
    for (;;) {
      if (peek().kind == TokenKind::kRBrace) break;
      if (peek().kind != TokenKind::kString) return expected("a quoted string or '}'");
      values.emplace_back(peek().text);
      advance();
      if (peek().kind == TokenKind::kRBrace) break;
      if (peek().kind != TokenKind::kComma) return expected("',' or '}'");
      advance();
    }
    advance();  // the '}'
    return NodePtr(std::make_unique<LabelSetNode>(std::move(key), op, std::move(values)));
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<NodePtr> parseTree(std::string_view text) {
  BRINDLE_ASSIGN_OR_RETURN(auto tokens, tokenize(text));
  return Parser(std::move(tokens)).parseAll();
}

}  // namespace brindle::selector
