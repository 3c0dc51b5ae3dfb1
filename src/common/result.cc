// Names of error codes, for messages and tests.
#include "common/result.h"

namespace brindle {

const char* errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalid: return "invalid";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kAlreadyExists: return "already exists";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kCompacted: return "compacted";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kCorrupt: return "corrupt";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

}  // namespace brindle
