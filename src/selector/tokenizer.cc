// Selector tokenizer. Follows Calico's lexical rules: blanks are spaces and tabs, operator words
// (in, not in, contains, starts with, ends with) are only recognised right after a label key.
#include "selector/tokenizer.h"

#include <fmt/format.h>

#include <algorithm>

namespace brindle::selector {
namespace {

// Long keys and values are cut in error messages so a huge input cannot flood a log.
constexpr std::size_t kMaxShown = 40;

bool isBlank(char c) { return c == ' ' || c == '\t'; }

// Renders `text` for an error message, escaping bytes that would not print.
std::string escaped(std::string_view text) {
  std::string out;
  std::size_t shown = 0;
  for (char c : text) {
    if (shown++ == kMaxShown) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '\\') {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

std::string showText(std::string_view text, char quote) { return quote + escaped(text) + quote; }

class Tokenizer {
 public:
  explicit Tokenizer(std::string_view text) : text_(text) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> tokens;
    for (;;) {
      skipBlanks();
      if (pos_ == text_.size()) {
        tokens.push_back(Token{TokenKind::kEnd, {}, col()});
        return tokens;
      }
      bool afterLabel = !tokens.empty() && tokens.back().kind == TokenKind::kLabel;
      BRINDLE_ASSIGN_OR_RETURN(auto token, next(afterLabel));
      tokens.push_back(token);
    }
  }

 private:
  std::size_t col() const { return pos_ + 1; }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool atEnd() const { return pos_ >= text_.size(); }

  void skipBlanks() {
    while (pos_ < text_.size() && isBlank(text_[pos_])) ++pos_;
  }

  // What the error position holds, for "but found ..." messages.
  std::string describeHere() const {
    if (atEnd()) return "end of selector";
    return showText(text_.substr(pos_, 1), '\'');
  }

  Error errorHere(std::string_view expected) const {
    return makeError(ErrorCode::kInvalid, fmt::format("col {}: expected {} but found {}", col(),
                                                      expected, describeHere()));
  }

  Token make(TokenKind kind, std::size_t start, std::string_view text = {}) const {
    return Token{kind, text, start + 1};
  }

  // Consumes `word` if the text continues with it.
  bool consume(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // Consumes the blank-separated `words` if they follow and the last ends at a word boundary.
  // Calico allows the blanks to be absent ("notin", "startswith"), so we do as well.
  bool consumeWords(std::initializer_list<std::string_view> words) {
    std::size_t saved = pos_;
    bool first = true;
    for (std::string_view word : words) {
      if (!first) skipBlanks();
      first = false;
      if (!consume(word)) {
        pos_ = saved;
        return false;
      }
    }
    if (!atEnd() && isLabelChar(peek())) {
      pos_ = saved;
      return false;
    }
    return true;
  }

  std::string_view takeLabelChars() {
    std::size_t start = pos_;
    while (pos_ < text_.size() && isLabelChar(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  Result<std::string_view> labelKey(std::string_view context) {
    std::size_t start = pos_;
    std::string_view key = takeLabelChars();
    if (key.empty()) return errorHere(context);
    if (key.size() > kMaxLabelLength) {
      return makeError(ErrorCode::kInvalid,
                       fmt::format("col {}: label key is longer than {} characters", start + 1,
                                   kMaxLabelLength));
    }
    return key;
  }

  // After "has(", "all(" or "global(": optional blanks, then ')'.
  Status closeParen(std::string_view opener) {
    skipBlanks();
    if (consume(")")) return Status::ok();
    return errorHere(fmt::format("')' to close '{}'", opener));
  }

  Result<Token> quoted(char quote) {
    std::size_t start = pos_++;
    std::size_t close = text_.find(quote, pos_);
    if (close == std::string_view::npos) {
      pos_ = text_.size();
      return makeError(ErrorCode::kInvalid,
                       fmt::format("col {}: expected closing {} for the string opened at col {} "
                                   "but found end of selector",
                                   col(), quote, start + 1));
    }
    std::string_view value = text_.substr(pos_, close - pos_);
    pos_ = close + 1;
    return make(TokenKind::kString, start, value);
  }

  // Two-character operators; a lone first character becomes an invalid token for the parser.
  Token pair(std::string_view op, TokenKind kind) {
    std::size_t start = pos_;
    if (consume(op)) return make(kind, start);
    ++pos_;
    return make(TokenKind::kInvalid, start, text_.substr(start, 1));
  }

  Result<Token> next(bool afterLabel) {
    std::size_t start = pos_;
    switch (peek()) {
      case '(':
        return make(TokenKind::kLParen, pos_++);
      case ')':
        return make(TokenKind::kRParen, pos_++);
      case '{':
        return make(TokenKind::kLBrace, pos_++);
      case '}':
        return make(TokenKind::kRBrace, pos_++);
      case ',':
        return make(TokenKind::kComma, pos_++);
      case '"':
      case '\'':
        return quoted(peek());
      case '=':
        return pair("==", TokenKind::kEq);
      case '&':
        return pair("&&", TokenKind::kAnd);
      case '|':
        return pair("||", TokenKind::kOr);
      case '!':
        if (consume("!=")) return make(TokenKind::kNe, start);
        ++pos_;
        return make(TokenKind::kNot, start);
      default:
        break;
    }
    if (afterLabel) return operatorWord();
    if (consume("has(")) {
      skipBlanks();
      BRINDLE_ASSIGN_OR_RETURN(auto key, labelKey("a label key inside 'has('"));
      if (Status s = closeParen("has("); !s) return s.error();
      return make(TokenKind::kHas, start, key);
    }
    if (consume("all(")) {
      if (Status s = closeParen("all("); !s) return s.error();
      return make(TokenKind::kAll, start);
    }
    if (consume("global(")) {
      if (Status s = closeParen("global("); !s) return s.error();
      return make(TokenKind::kGlobal, start);
    }
    if (isLabelChar(peek())) {
      BRINDLE_ASSIGN_OR_RETURN(auto key, labelKey("a label key"));
      return make(TokenKind::kLabel, start, key);
    }
    ++pos_;
    return make(TokenKind::kInvalid, start, text_.substr(start, 1));
  }

  // Right after a label key only an operator may follow; anything else is handed to the parser
  // as an invalid token (a whole word if it is one) so it can say which operators it expected.
  Token operatorWord() {
    std::size_t start = pos_;
    if (consumeWords({"contains"})) return make(TokenKind::kContains, start);
    if (consumeWords({"starts", "with"})) return make(TokenKind::kStartsWith, start);
    if (consumeWords({"ends", "with"})) return make(TokenKind::kEndsWith, start);
    if (consumeWords({"not", "in"})) return make(TokenKind::kNotIn, start);
    if (consumeWords({"in"})) return make(TokenKind::kIn, start);
    std::string_view word = takeLabelChars();
    if (word.empty()) word = text_.substr(pos_++, 1);
    return make(TokenKind::kInvalid, start, word);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

bool isLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '/' || c == '-';
}

bool isValidLabelKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxLabelLength) return false;
  return std::ranges::all_of(key, [&](char c) { return isLabelChar(c); });
}

Result<std::vector<Token>> tokenize(std::string_view text) { return Tokenizer(text).run(); }

std::string describeToken(const Token& token) {
  switch (token.kind) {
    case TokenKind::kLabel:
      return "label " + showText(token.text, '\'');
    case TokenKind::kString: {
      std::string out = "string ";
      char quote = token.text.find('"') == std::string_view::npos ? '"' : '\'';
      return out + showText(token.text, quote);
    }
    case TokenKind::kLBrace:
      return "'{'";
    case TokenKind::kRBrace:
      return "'}'";
    case TokenKind::kComma:
      return "','";
    case TokenKind::kEq:
      return "'=='";
    case TokenKind::kNe:
      return "'!='";
    case TokenKind::kIn:
      return "'in'";
    case TokenKind::kNotIn:
      return "'not in'";
    case TokenKind::kContains:
      return "'contains'";
    case TokenKind::kStartsWith:
      return "'starts with'";
    case TokenKind::kEndsWith:
      return "'ends with'";
    case TokenKind::kNot:
      return "'!'";
    case TokenKind::kAnd:
      return "'&&'";
    case TokenKind::kOr:
      return "'||'";
    case TokenKind::kLParen:
      return "'('";
    case TokenKind::kRParen:
      return "')'";
    case TokenKind::kHas:
      return "'has(" + escaped(token.text) + ")'";
    case TokenKind::kAll:
      return "'all()'";
    case TokenKind::kGlobal:
      return "'global()'";
    case TokenKind::kInvalid:
      return showText(token.text, '\'');
    case TokenKind::kEnd:
      return "end of selector";
  }
  return "?";
}

void appendQuoted(std::string& out, std::string_view value) {
  char quote = value.find('"') == std::string_view::npos ? '"' : '\'';
  out += quote;
  out += value;
  out += quote;
}

}  // namespace brindle::selector
