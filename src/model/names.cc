// Name grammar checks as plain character loops.
#include <algorithm>
#include <cctype>

#include "model/names.h"

namespace brindle::model {
namespace {

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool isAlnum(char c) { return isLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool isHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// First and last characters pass `edge`, the ones between pass `inner`.
template <typename Edge, typename Inner>
bool edgesAndInner(std::string_view s, Edge edge, Inner inner) {
  if (s.empty() || !edge(s.front()) || !edge(s.back())) return false;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    if (!inner(s[i])) return false;
  }
  return true;
}

}  // namespace

bool isDnsLabel(std::string_view s) {
  return s.size() <= 63 &&
         edgesAndInner(s, isLowerAlnum, [](char c) { return isLowerAlnum(c) || c == '-'; });
}

bool isDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    // Like Kubernetes (and Calico's name regex), only the whole name is limited, not each part.
    const std::string_view part =
        s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (!edgesAndInner(part, isLowerAlnum, [](char c) { return isLowerAlnum(c) || c == '-'; })) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool isLabelValue(std::string_view s) {
  if (s.empty()) return true;
  return s.size() <= 63 && edgesAndInner(s, isAlnum, [](char c) {
           return isAlnum(c) || c == '-' || c == '_' || c == '.';
         });
}

bool isQualifiedName(std::string_view s) {
  std::string_view name = s;
  if (const size_t slash = s.find('/'); slash != std::string_view::npos) {
    if (!isDnsSubdomain(s.substr(0, slash))) return false;
    name = s.substr(slash + 1);
  }
  return !name.empty() && isLabelValue(name);
}

bool isInterfaceName(std::string_view s) {
  if (s.empty() || s.size() > 15) return false;
  return std::ranges::none_of(
      s, [&](char c) { return !isAlnum(c) && c != '_' && c != '.' && c != '-'; });
}

bool isMacAddress(std::string_view s) {
  if (s.size() != 17) return false;
  const char sep = s[2];
  if (sep != ':' && sep != '-') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i % 3 == 2 ? s[i] != sep : !isHex(s[i])) return false;
  }
  return true;
}

bool isContainerId(std::string_view s) {
  return edgesAndInner(s, isAlnum, [](char c) { return isAlnum(c) || c == '-'; });
}

std::string looseKey(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '-' || c == '_') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace brindle::model
