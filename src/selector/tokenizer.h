// Splits selector text into tokens, each tagged with its 1-based column so that the parser can
// point at the exact place of a mistake.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace brindle::selector {

// Calico rejects longer label keys; we do the same so both accept the same selectors.
constexpr std::size_t kMaxLabelLength = 512;

enum class TokenKind {
  kLabel,       // a label key, text = key
  kString,      // a quoted literal, text = contents without quotes
  kLBrace,      // {
  kRBrace,      // }
  kComma,       // ,
  kEq,          // ==
  kNe,          // !=
  kIn,          // in
  kNotIn,       // not in
  kContains,    // contains
  kStartsWith,  // starts with
  kEndsWith,    // ends with
  kNot,         // !
  kAnd,         // &&
  kOr,          // ||
  kLParen,      // (
  kRParen,      // )
  kHas,         // has(key), text = key
  kAll,         // all()
  kGlobal,      // global()
  kInvalid,     // text that is no token; the parser reports it with what it expected instead
  kEnd,         // end of the selector
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;  // points into the tokenized text (see TokenKind)
  std::size_t col = 0;    // 1-based byte column of the token's first character
};

// Tokenizes `text`; the last token is always kEnd. The result points into `text`.
// Fails (kInvalid) only for mistakes the parser cannot describe better: an unterminated string,
// an over-long label, a malformed has(), all() or global().
Result<std::vector<Token>> tokenize(std::string_view text);

// True for the characters Calico allows in label keys: [A-Za-z0-9_./-].
bool isLabelChar(char c);

// True if `key` is a non-empty label key of allowed characters and length.
bool isValidLabelKey(std::string_view key);

// A short human description for error messages, e.g. `label 'app'` or `end of selector`.
std::string describeToken(const Token& token);

// Appends `value` in the canonical quoting: double quotes, or single quotes if `value` holds a
// double quote. (A value holding both quote characters cannot be written in the language.)
void appendQuoted(std::string& out, std::string_view value);

}  // namespace brindle::selector
