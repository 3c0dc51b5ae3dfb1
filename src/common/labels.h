// Labels: the key/value map that selectors are evaluated against.
#pragma once

#include <map>
#include <string>

namespace brindle {

using Labels = std::map<std::string, std::string, std::less<>>;

}  // namespace brindle
