// Object naming from content hashes; see hash.h.
#include "calc/hash.h"

#include <cstring>

namespace brindle::calc {

std::string uniqueId(std::string_view prefix, std::string_view content) {
  // Felix hashes the prefix with the content ("s:" + selector), so ids, and the ipset names made
  // from them, are exactly Felix's.
  auto digest = sha224(std::string(prefix) + ":" + std::string(content));
  return std::string(prefix) + ":" + base64Url(digest.data(), digest.size());
}

std::string lengthLimitedId(std::string_view prefix, std::string_view suffix, size_t maxLength) {
  if (suffix.empty()) suffix = "_";  // Felix's: never the bare prefix
  size_t total = prefix.size() + suffix.size();
  if (total > maxLength || (total == maxLength && !suffix.empty() && suffix[0] == '_')) {
    auto digest = sha256(suffix);
    std::string hash = base64Url(digest.data(), digest.size());
    size_t left = maxLength > prefix.size() + 1 ? maxLength - prefix.size() - 1 : 0;
    return std::string(prefix) + "_" + hash.substr(0, left);
  }
  return std::string(prefix) + std::string(suffix);
}

}  // namespace brindle::calc
