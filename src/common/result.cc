// Names of error codes, for messages and tests.
#include "common/result.h"

namespace brindle {

const char* errorCodeName(ErrorCode code) {
  static constexpr const char* kNames[] = {"invalid",  "not found", "already exists",
                                           "conflict", "compacted", "unavailable",
                                           "corrupt",  "internal"};  // ErrorCode's order
  return kNames[static_cast<int>(code)];
}

}  // namespace brindle
