// A small XML well-formedness check for the planner's drawings (the test machine need not have
// an XML parser): balanced and properly nested elements, quoted attributes, one root, only the
// predefined entities and character references, no stray '<' or '&'.
#pragma once

#include <cctype>
#include <string>
#include <vector>

namespace brindle::plan {

// Empty when `xml` is well formed, else what is wrong and where.
inline std::string xmlProblem(const std::string& xml) {
  auto entityAt = [&](size_t i) {
    const size_t end = xml.find(';', i);
    if (end == std::string::npos) return false;
    const std::string name = xml.substr(i + 1, end - i - 1);
    if (name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos") {
      return true;
    }
    return name.size() > 1 && name[0] == '#' &&
           name.find_first_not_of("0123456789", 1) == std::string::npos;
  };
  auto isName = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ':' || c == '_';
  };
  std::vector<std::string> open;
  int roots = 0;
  size_t i = 0;
  if (xml.rfind("<?xml", 0) == 0) i = xml.find("?>") + 2;
  while (i < xml.size()) {
    const char c = xml[i];
    if (c == '&' && !entityAt(i)) return "bad entity at " + std::to_string(i);
    if (c == '>') return "stray '>' at " + std::to_string(i);
    if (c != '<') {
      if (open.empty() && !std::isspace(static_cast<unsigned char>(c))) {
        return "text outside the root at " + std::to_string(i);
      }
      ++i;
      continue;
    }
    const bool closing = i + 1 < xml.size() && xml[i + 1] == '/';
    size_t j = i + (closing ? 2 : 1);
    const size_t nameStart = j;
    while (j < xml.size() && isName(xml[j])) ++j;
    const std::string name = xml.substr(nameStart, j - nameStart);
    if (name.empty()) return "element without a name at " + std::to_string(i);
    while (j < xml.size() && xml[j] != '>' && xml[j] != '/') {
      if (std::isspace(static_cast<unsigned char>(xml[j]))) {
        ++j;
        continue;
      }
      if (closing) return "attribute in a closing tag at " + std::to_string(j);
      while (j < xml.size() && isName(xml[j])) ++j;
      if (j + 1 >= xml.size() || xml[j] != '=' || xml[j + 1] != '"') {
        return "unquoted attribute at " + std::to_string(j);
      }
      const size_t end = xml.find('"', j + 2);
      if (end == std::string::npos) return "unterminated attribute at " + std::to_string(j);
      for (size_t k = j + 2; k < end; ++k) {
        if (xml[k] == '<' || (xml[k] == '&' && !entityAt(k))) {
          return "bad character in attribute at " + std::to_string(k);
        }
      }
      j = end + 1;
    }
    if (j >= xml.size()) return "unterminated tag at " + std::to_string(i);
    const bool empty = xml[j] == '/';
    if (empty && (j + 1 >= xml.size() || xml[j + 1] != '>'))
      return "bad '/' at " + std::to_string(j);
    if (closing) {
      if (open.empty() || open.back() != name) return "</" + name + "> closes nothing open";
      open.pop_back();
    } else {
      if (open.empty()) ++roots;
      if (!empty) open.push_back(name);
    }
    i = j + (empty ? 2 : 1);
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  if (roots != 1) return std::to_string(roots) + " root elements";
  return "";
}

}  // namespace brindle::plan
