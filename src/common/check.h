// BRINDLE_CHECK(cond, message): an invariant only a bug can break. When it does not hold the
// process prints "brindle: internal error at <file>:<line>: <message>" and aborts, loudly and at
// once, instead of running on with state nobody planned for. Expected failures (bad input, a
// lost datastore, a refusing kernel) are Errors, never CHECKs.
#pragma once

#include <string_view>

namespace brindle::detail {

[[noreturn]] void checkFailed(const char* file, int line, std::string_view message);

}  // namespace brindle::detail

// The message is evaluated only when the check fails.
#define BRINDLE_CHECK(cond, message)                                 \
  do {                                                               \
    if (!(cond)) [[unlikely]] {                                      \
      ::brindle::detail::checkFailed(__FILE__, __LINE__, (message)); \
    }                                                                \
  } while (false)
