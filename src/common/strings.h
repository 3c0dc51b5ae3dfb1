// Small string helpers shared by every part (names and settings are matched ignoring case in
// several places, as Calico does).
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace brindle {

// ASCII lower case (names, kinds, settings: never user text in another script).
inline std::string toLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && toLower(a) == toLower(b);
}

inline bool containsIgnoreCase(std::string_view haystack, std::string_view needle) {
  return toLower(haystack).find(toLower(needle)) != std::string::npos;
}

// Without leading and trailing blanks (space, tab, CR, LF).
inline std::string trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace brindle
