// BRINDLE_CHECK(cond, message): an invariant only a bug can break. When it does not hold, the
// process prints "brindle: internal error at <file>:<line>: <message>" and aborts at once rather
// than run on in a state nobody planned for. Expected failures (bad input, a lost datastore, a
// refusing kernel) are Errors, never CHECKs. The message is built only when the check fails.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace brindle::detail {

[[noreturn]] inline void checkFailed(const char* file, int line, std::string_view message) {
  std::fprintf(stderr, "brindle: internal error at %s:%d: %.*s\n", file, line,
               static_cast<int>(message.size()), message.data());
  std::abort();
}

}  // namespace brindle::detail

#define BRINDLE_CHECK(cond, message)                                 \
  do {                                                               \
    if (!(cond)) [[unlikely]] {                                      \
      ::brindle::detail::checkFailed(__FILE__, __LINE__, (message)); \
    }                                                                \
  } while (false)
