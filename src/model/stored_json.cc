// A direct JSON reader for the common case (ASCII strings with simple escapes, numbers, nesting
// up to kMaxDepth): anything else (\u escapes, non-ASCII, BOM, errors) is left to
// Json::parse, so results and errors are always exactly the library's.
#include "model/resource.h"
#include "model/yaml_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace brindle::model {
namespace {

constexpr int kMaxDepth = 128;

class Reader {
 public:
  explicit Reader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  // False: not handled here (not necessarily invalid).
  bool parse(Json& out) {
    skipSpace();
    if (!value(out, 0)) return false;
    skipSpace();
    return p_ == end_;
  }

 private:
  void skipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  bool value(Json& out, int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        return object(out, depth + 1);
      case '[':
        return array(out, depth + 1);
      case '"': {
        std::string s;
        if (!string(s)) return false;
        out = Json(std::move(s));
        return true;
      }
      case 't':
        out = Json(true);
        return literal("true");
      case 'f':
        out = Json(false);
        return literal("false");
      case 'n':
        out = Json(nullptr);
        return literal("null");
      default:
        return number(out);
    }
  }

  bool string(std::string& out) {
    ++p_;  // the opening quote
    const char* start = p_;
    while (true) {
      while (p_ < end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20 &&
             static_cast<unsigned char>(*p_) < 0x80) {
        ++p_;
      }
      if (p_ == end_) return false;
      const char c = *p_;
      if (c == '"') {
        out.append(start, p_);
        ++p_;
        return true;
      }
      if (c != '\\' || p_ + 1 == end_) return false;  // control or non-ASCII byte
      out.append(start, p_);
      // \u (surrogates, UTF-8) and invalid escapes are the library's.
      static constexpr std::string_view kEscaped = "\"\\/bfnrt", kMeant = "\"\\/\b\f\n\r\t";
      const size_t e = kEscaped.find(p_[1]);
      if (e == std::string_view::npos) return false;
      out += kMeant[e];
      p_ += 2;
      start = p_;
    }
  }

  static bool isDigit(char c) { return c >= '0' && c <= '9'; }

  bool number(Json& out) {
    // RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    const char* start = p_;
    bool negative = false, integral = true;
    if (p_ < end_ && *p_ == '-') {
      negative = true;
      ++p_;
    }
    if (p_ == end_ || !isDigit(*p_)) return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && isDigit(*p_)) ++p_;
    }
    if (p_ < end_ && *p_ == '.') {
      integral = false;
      ++p_;
      if (p_ == end_ || !isDigit(*p_)) return false;
      while (p_ < end_ && isDigit(*p_)) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !isDigit(*p_)) return false;
      while (p_ < end_ && isDigit(*p_)) ++p_;
    }
    // As the library: unsigned if non-negative, signed if negative, else (or on overflow)
    // double; an infinite double is its error.
    if (integral && !negative) {
      uint64_t v = 0;
      auto r = std::from_chars(start, p_, v);
      if (r.ec == std::errc() && r.ptr == p_) {
        out = Json(static_cast<Json::number_unsigned_t>(v));
        return true;
      }
    } else if (integral) {
      int64_t v = 0;
      auto r = std::from_chars(start, p_, v);
      if (r.ec == std::errc() && r.ptr == p_) {
        out = Json(static_cast<Json::number_integer_t>(v));
        return true;
      }
    }
    double d = 0;
    auto r = std::from_chars(start, p_, d);
    if (r.ec != std::errc() || r.ptr != p_ || !std::isfinite(d)) return false;
    out = Json(d);
    return true;
  }

  // The elements of `{...}` or `[...]`, from the opening bracket to `close`, each read by item().
  template <typename Item>
  bool elements(char close, Item item) {
    ++p_;  // the opening bracket
    skipSpace();
    if (p_ < end_ && *p_ == close) {
      ++p_;
      return true;
    }
    while (true) {
      skipSpace();
      if (!item()) return false;
      skipSpace();
      if (p_ == end_) return false;
      if (*p_ != ',') break;
      ++p_;
    }
    if (*p_ != close) return false;
    ++p_;
    return true;
  }

  bool object(Json& out, int depth) {
    if (depth > kMaxDepth) return false;
    std::vector<std::string> keys;
    std::vector<Json> values;
    const bool ok = elements('}', [&] {
      if (p_ == end_ || *p_ != '"') return false;
      keys.emplace_back();
      if (!string(keys.back())) return false;
      skipSpace();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skipSpace();
      values.emplace_back();
      return value(values.back(), depth);
    });
    if (!ok) return false;
    // Members are placed once, at the final size: ordered_json's pairs have a const key and
    // cannot be moved, so growing the vector would deep-copy every member before.
    out = Json::object();
    auto& members = out.get_ref<Json::object_t&>();
    members.reserve(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      // A repeated key keeps its first place and takes the last value, as parse() does.
      auto same = std::find_if(members.begin(), members.end(),
                               [&](const auto& m) { return m.first == keys[i]; });
      if (same != members.end()) {
        same->second = std::move(values[i]);
      } else {
        members.emplace_back(std::move(keys[i]), std::move(values[i]));
      }
    }
    return true;
  }

  bool array(Json& out, int depth) {
    if (depth > kMaxDepth) return false;
    Json::array_t items;
    if (!elements(']', [&] { return value(items.emplace_back(), depth); })) return false;
    out = Json::array();
    out.get_ref<Json::array_t&>() = std::move(items);
    return true;
  }

  const char* p_;
  const char* end_;
};

}  // namespace

Json parseStoredJson(std::string_view text) {
  Json out;
  if (Reader(text).parse(out)) return out;
  return Json::parse(text);  // the unusual or invalid: the library decides, and says why
}

Result<Resource> readStoredResource(std::string_view value) {
  Json json;
  try {
    json = parseStoredJson(value);
  } catch (const std::exception& e) {
    // The limited reader's message names a line and column where the library's may quote bytes.
    auto checked = parseJson(value, "value");
    return makeError(ErrorCode::kCorrupt,
                     checked ? e.what() : "is not valid JSON: " + checked.message());
  }
  return resourceFromJson(std::move(json));
}

}  // namespace brindle::model
