// YAML/JSON text <-> JSON values (yaml-cpp for reading, a small writer of our own for output so
// that the layout and quoting match what calicoctl prints).
#include "model/yaml_json.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>

namespace brindle::model {
namespace {

// A failure while turning one YAML node tree into JSON, with the position of the offending node.
// Thrown only inside this file: the tree walk is recursive and this keeps it linear.
struct NodeError {
  YAML::Mark mark;
  std::string what;
};

bool isDigits(std::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = base == 16  ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                    : base == 8 ? (c >= '0' && c <= '7')
                                : std::isdigit(static_cast<unsigned char>(c)) != 0;
    if (!ok) return false;
  }
  return true;
}

// YAML 1.2 core float: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool isCoreFloat(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t intDigits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++intDigits;
  size_t fracDigits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++fracDigits;
  }
  if (intDigits == 0 && fracDigits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!isDigits(s.substr(i), 10)) return false;
    return true;
  }
  return i == s.size();
}

bool isOneOf(std::string_view s, std::initializer_list<std::string_view> options) {
  return std::ranges::any_of(options, [&](auto o) { return s == o; });
}

// `digits` of the plain scalar `text` ("+12", "0x1f", ...).
Json integerValue(std::string_view text, std::string_view digits, int base, bool negative) {
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) {
    // Too big for 64 bits: keep the text as written (sign and prefix too, so that it is written
    // back the same) rather than silently rounding it.
    return Json(std::string(text));
  }
  if (!negative) {
    if (magnitude <= static_cast<uint64_t>(INT64_MAX)) return Json(static_cast<int64_t>(magnitude));
    return Json(magnitude);
  }
  if (magnitude <= static_cast<uint64_t>(INT64_MAX)) return Json(-static_cast<int64_t>(magnitude));
  if (magnitude == static_cast<uint64_t>(INT64_MAX) + 1) return Json(INT64_MIN);
  return Json("-" + std::string(digits));
}

// The tree walk's budget (ParseLimits) and what it has spent.
struct Walk {
  const ParseLimits& limits;
  size_t values = 0;
  size_t aliasValues = 0;
  size_t lastPos = 0;  // stream offset of the last node met for the first time

  // Counts `node` before it is converted. yaml-cpp resolves an alias to the anchored node itself,
  // so a node met again sits earlier in the stream than the last new one: that is how values
  // read through aliases are told from values written out.
  void count(const YAML::Node& node, int depth) {
    if (depth > limits.maxDepth) {
      throw NodeError{node.Mark(), "nested deeper than " + std::to_string(limits.maxDepth) +
                                       " levels (the most this reader accepts)"};
    }
    const auto pos = static_cast<size_t>(std::max(node.Mark().pos, 0));
    if (pos < lastPos) {
      ++aliasValues;
    } else {
      lastPos = pos;
    }
    if (++values > limits.maxValues) {
      throw NodeError{node.Mark(), "more than " + std::to_string(limits.maxValues) +
                                       " values (the most this reader accepts)"};
    }
    if (aliasValues > limits.maxAliasValues && aliasValues > values - aliasValues) {
      throw NodeError{node.Mark(), "YAML aliases expand to more than " +
                                       std::to_string(limits.maxAliasValues) +
                                       " values (an alias bomb?); write the values out instead"};
    }
  }
};

// yaml-cpp 0.7 reports empty documents forever on some malformed input (fuzz/yaml_fuzz.cc found
// 32 bytes ending in "n&"), so LoadAll would never return. A first pass over the parser's events
// counts the documents and stops at more than the text could hold (each after the first needs a
// "---"); it throws what a syntax error throws, as LoadAll would.
class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

void checkDocumentCount(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  const size_t maxDocuments = text.size() / 3 + 2;
  for (size_t docs = 0; parser.HandleNextDocument(counter);) {
    if (++docs > maxDocuments) {
      throw NodeError{YAML::Mark(), "the YAML parser does not advance (malformed input)"};
    }
  }
}

void toJson(const YAML::Node& node, Json& out, Walk& walk, int depth);

// Offset of the first byte that is not part of well-formed UTF-8, or npos. Resources are UTF-8
// text; anything else (binary, UTF-16) is refused before a parser guesses at it, and before its
// bytes could be echoed into an error message.
size_t invalidUtf8At(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || (len == 2 && c < 0xC2) || i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

// The text of a scalar, value or key. The input was UTF-8, but yaml-cpp 0.7 decodes the escapes
// \_ and \N of quoted scalars to the single bytes 0xA0 and 0x85 (found by fuzz/yaml_fuzz.cc, in
// values and then in keys), which no JSON writer takes.
const std::string& scalarText(const YAML::Node& node) {
  if (invalidUtf8At(node.Scalar()) != std::string_view::npos) {
    throw NodeError{node.Mark(),
                    "a string escape (\\_ or \\N) this reader cannot decode; write the "
                    "character itself"};
  }
  return node.Scalar();
}

void scalarToJson(const YAML::Node& node, Json& out) {
  const std::string& tag = node.Tag();
  const std::string& text = scalarText(node);
  // "!" marks a quoted (or block) scalar: it is a string whatever it looks like.
  if (tag == "!" || tag == "tag:yaml.org,2002:str") {
    out = text;
    return;
  }
  if (tag == "?" || tag.empty() || tag.rfind("tag:yaml.org,2002:", 0) == 0) {
    out = plainScalarValue(text);
    return;
  }
  throw NodeError{node.Mark(), "unsupported YAML tag \"" + tag + "\""};
}

void toJson(const YAML::Node& node, Json& out, Walk& walk, int depth) {
  if (node.IsDefined() && !node.IsNull()) walk.count(node, depth);
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out = nullptr;
      return;
    case YAML::NodeType::Scalar:
      scalarToJson(node, out);
      return;
    case YAML::NodeType::Sequence:
      out = Json::array();
      for (const auto& item : node) {
        Json value;
        toJson(item, value, walk, depth + 1);
        out.push_back(std::move(value));
      }
      return;
    case YAML::NodeType::Map:
      out = Json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          throw NodeError{entry.first.Mark(), "a mapping key must be a plain value"};
        }
        const std::string key = scalarText(entry.first);
        // yaml-cpp keeps the last of two equal keys; Calico's reader rejects them, and so do we:
        // the first value would otherwise vanish without a word.
        if (out.contains(key)) {
          throw NodeError{entry.first.Mark(), "key \"" + key + "\" appears twice in one mapping"};
        }
        Json value;
        toJson(entry.second, value, walk, depth + 1);
        out[key] = std::move(value);
      }
      return;
  }
}

std::string position(std::string_view sourceName, int line, int column) {
  return std::string(sourceName) + ", line " + std::to_string(line) + ", column " +
         std::to_string(column);
}

// nlohmann reports a byte offset; users want line and column.
Error jsonParseError(std::string_view text, std::string_view sourceName,
                     const nlohmann::json::parse_error& e) {
  int line = 1;
  int column = 1;
  const size_t end = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
  for (size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  std::string what = e.what();
  if (auto at = what.find("syntax error"); at != std::string::npos) {
    what = what.substr(at);
  } else if (auto bracket = what.find("] "); bracket != std::string::npos) {
    what = what.substr(bracket + 2);
  }
  return makeError(ErrorCode::kInvalid,
                   position(sourceName, line, column) + ": JSON parse error: " + what);
}

Status checkText(std::string_view text, std::string_view sourceName) {
  if (const size_t at = invalidUtf8At(text); at != std::string_view::npos) {
    return makeError(ErrorCode::kInvalid, std::string(sourceName) + " is not UTF-8 text (byte " +
                                              std::to_string(at + 1) + ")");
  }
  // YAML allows no raw control characters but tab and line breaks (write "\x01" in a quoted
  // string instead); yaml-cpp would read a NUL as the end of its input (fuzz/yaml_fuzz.cc).
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      return makeError(ErrorCode::kInvalid, std::string(sourceName) +
                                                " holds a control character (byte " +
                                                std::to_string(i + 1) + ")");
    }
  }
  return Status::ok();
}

Error tooLarge(std::string_view sourceName, size_t maxBytes) {
  return makeError(ErrorCode::kInvalid, std::string(sourceName) + " is larger than " +
                                            std::to_string(maxBytes >> 20) +
                                            " MiB (the most this reader accepts)");
}

bool startsLikeJson(std::string_view text) {
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    return c == '{' || c == '[';
  }
  return false;
}

void appendQuoted(std::string_view s, std::string& out) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void appendScalar(const Json& v, std::string& out) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (needsQuotes(s)) {
      appendQuoted(s, out);
    } else {
      out += s;
    }
  } else if (v.is_object()) {
    out += "{}";  // only reached for empty containers
  } else if (v.is_array()) {
    out += "[]";
  } else {
    out += v.dump();
  }
}

bool isBlock(const Json& v) { return (v.is_object() || v.is_array()) && !v.empty(); }

// Writes a non-empty mapping or sequence in block style at `indent`. With `firstInline`, the
// caller has already written the first line's prefix ("- "), as in a sequence of mappings.
void writeBlock(const Json& v, int indent, bool firstInline, std::string& out) {
  bool first = true;
  if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      if (!(first && firstInline)) out.append(static_cast<size_t>(indent), ' ');
      first = false;
      appendScalar(Json(key), out);
      out += ':';
      if (!isBlock(value)) {
        out += ' ';
        appendScalar(value, out);
        out += '\n';
      } else if (value.is_object()) {
        out += '\n';
        writeBlock(value, indent + 2, false, out);
      } else {
        // calicoctl (go-yaml) writes a sequence's "- " at its key's indentation.
        out += '\n';
        writeBlock(value, indent, false, out);
      }
    }
    return;
  }
  for (const auto& item : v) {
    if (!(first && firstInline)) out.append(static_cast<size_t>(indent), ' ');
    first = false;
    out += "- ";
    if (isBlock(item)) {
      writeBlock(item, indent + 2, true, out);
    } else {
      appendScalar(item, out);
      out += '\n';
    }
  }
}

}  // namespace

Json plainScalarValue(const std::string& text) {
  std::string_view s = text;
  if (isOneOf(s, {"", "~", "null", "Null", "NULL"})) return nullptr;
  if (isOneOf(s, {"true", "True", "TRUE"})) return true;
  if (isOneOf(s, {"false", "False", "FALSE"})) return false;
  if (s.size() > 2 && s[0] == '0' && s[1] == 'x' && isDigits(s.substr(2), 16)) {
    return integerValue(s, s.substr(2), 16, false);
  }
  if (s.size() > 2 && s[0] == '0' && s[1] == 'o' && isDigits(s.substr(2), 8)) {
    return integerValue(s, s.substr(2), 8, false);
  }
  {
    const bool sign = s[0] == '+' || s[0] == '-';
    std::string_view digits = sign ? s.substr(1) : s;
    if (isDigits(digits, 10)) return integerValue(s, digits, 10, s[0] == '-');
  }
  if (isCoreFloat(s)) {
    double d = 0;
    std::string_view body = s[0] == '+' ? s.substr(1) : s;
    auto [ptr, ec] = std::from_chars(body.data(), body.data() + body.size(), d);
    if (ec == std::errc() && ptr == body.data() + body.size()) return d;
  }
  // .inf and .nan have no JSON form; they stay strings (and needsQuotes() quotes them).
  return text;
}

bool needsQuotes(std::string_view s) {
  if (s.empty()) return true;
  // A leading byte order mark would be taken for the file's own and dropped (fuzz/yaml_fuzz.cc).
  if (s.substr(0, 3) == "\xEF\xBB\xBF") return true;
  // "---" and "..." open or end a document (fuzz/yaml_fuzz.cc: a value "..." vanished).
  if (s.starts_with("---") || s.starts_with("...")) return true;
  if (!plainScalarValue(std::string(s)).is_string()) return true;
  // YAML 1.1 readers (go-yaml v2, PyYAML) take these as bools, and .inf/.nan as floats.
  if (isOneOf(s,
              {"y",     "Y",     "yes",   "Yes",   "YES",   "n",    "N",    "no",   "No",   "NO",
               "on",    "On",    "ON",    "off",   "Off",   "OFF",  ".inf", ".Inf", ".INF", "+.inf",
               "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"})) {
    return true;
  }
  static constexpr std::string_view kIndicators = "-?:,[]{}#&*!|>'\"%@`";
  if (kIndicators.find(s.front()) != std::string_view::npos) return true;
  if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return true;
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos) {
    return true;
  }
  return std::ranges::any_of(s, [&](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

Result<std::vector<Json>> parseDocuments(std::string_view text, std::string_view sourceName,
                                         const ParseLimits& limits) {
  if (text.size() > limits.maxBytes) return tooLarge(sourceName, limits.maxBytes);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  if (Status s = checkText(text, sourceName); !s) return s.error();
  std::vector<Json> docs;
  try {
    const std::string owned(text);
    checkDocumentCount(owned);
    const std::vector<YAML::Node> nodes = YAML::LoadAll(owned);
    Walk walk{limits};
    for (const auto& node : nodes) {
      if (node.IsNull()) continue;
      Json value;
      toJson(node, value, walk, 1);
      docs.push_back(std::move(value));
    }
    return docs;
  } catch (const NodeError& e) {
    return makeError(ErrorCode::kInvalid,
                     position(sourceName, e.mark.line + 1, e.mark.column + 1) + ": " + e.what);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own guard (far past our limit, which the walk would have caught) says only
    // "bad file".
    return makeError(ErrorCode::kInvalid, position(sourceName, e.mark.line + 1, e.mark.column + 1) +
                                              ": nested deeper than " +
                                              std::to_string(limits.maxDepth) +
                                              " levels (the most this reader accepts)");
  } catch (const YAML::Exception& e) {
    if (startsLikeJson(text)) {
      // yaml-cpp is stricter than JSON in places (tabs); a clean JSON parse wins, and a JSON
      // error reads better for a JSON file than a YAML one.
      BRINDLE_ASSIGN_OR_RETURN(auto json, parseJson(text, sourceName, limits));
      docs.push_back(std::move(json));
      return docs;
    }
    return makeError(ErrorCode::kInvalid, position(sourceName, e.mark.line + 1, e.mark.column + 1) +
                                              ": YAML parse error: " + e.msg);
  }
}

std::string writeYaml(const Json& value) {
  std::string out;
  if (isBlock(value)) {
    writeBlock(value, 0, false, out);
  } else {
    appendScalar(value, out);
    out += '\n';
  }
  return out;
}

Result<Json> parseJson(std::string_view text, std::string_view sourceName,
                       const ParseLimits& limits) {
  if (text.size() > limits.maxBytes) return tooLarge(sourceName, limits.maxBytes);
  if (Status s = checkText(text, sourceName); !s) return s.error();
  bool tooDeep = false;
  // The callback sees every value as it is parsed, with its depth: deeper than the limit, the
  // parse stops there (nlohmann then reports a discarded value, so the flag says why).
  auto guard = [&](int depth, nlohmann::json::parse_event_t, Json&) {
    if (depth > limits.maxDepth) tooDeep = true;
    return !tooDeep;
  };
  try {
    Json value = Json::parse(text, guard);
    if (tooDeep) {
      return makeError(ErrorCode::kInvalid, std::string(sourceName) + ": nested deeper than " +
                                                std::to_string(limits.maxDepth) +
                                                " levels (the most this reader accepts)");
    }
    return value;
  } catch (const nlohmann::json::parse_error& e) {
    return jsonParseError(text, sourceName, e);
  } catch (const nlohmann::json::exception& e) {
    // E.g. a number too large for a double (found by fuzz/cni_config_fuzz.cc).
    std::string what = e.what();
    if (auto bracket = what.find("] "); bracket != std::string::npos) what.erase(0, bracket + 2);
    return makeError(ErrorCode::kInvalid, std::string(sourceName) + ": JSON error: " + what);
  }
}

Result<std::string> readLimited(std::istream& in, std::string_view sourceName, size_t maxBytes) {
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > maxBytes) return tooLarge(sourceName, maxBytes);
  }
  return text;
}

}  // namespace brindle::model
