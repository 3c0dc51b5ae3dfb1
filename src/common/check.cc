// The failure path of BRINDLE_CHECK.
#include "common/check.h"

#include <cstdio>
#include <cstdlib>

namespace brindle::detail {

void checkFailed(const char* file, int line, std::string_view message) {
  std::fprintf(stderr, "brindle: internal error at %s:%d: %.*s\n", file, line,
               static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace brindle::detail
