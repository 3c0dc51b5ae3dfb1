// Error, Status and Result<T>: the return types of every fallible boundary (parse, datastore,
// kernel). Exceptions from third-party libraries are caught at the edge and turned into these.
#pragma once

#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "common/check.h"

namespace brindle {

enum class ErrorCode {
  kInvalid,        // bad input: parse or validation failure
  kNotFound,       // the key or resource does not exist
  kAlreadyExists,  // create of something that exists
  kConflict,       // compare-and-swap lost: the revision moved on
  kCompacted,      // a watch fell behind the history the store keeps: re-list, then watch
  kUnavailable,    // the datastore or a daemon cannot be reached (may succeed later)
  kCorrupt,        // a stored value cannot be read (another tool or a bad migration wrote it)
  kInternal,       // anything else
};

const char* errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

inline Error makeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

// Status: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  static Status ok() { return Status(); }
  bool isOk() const { return !error_.has_value(); }
  explicit operator bool() const { return isOk(); }
  // The error of a failed Status; asking an ok one is a bug and aborts loudly.
  const Error& error() const {
    BRINDLE_CHECK(error_, "Status::error() on an ok Status");
    return *error_;
  }
  ErrorCode code() const { return error().code; }
  const std::string& message() const { return error().message; }

 private:
  std::optional<Error> error_;
};

// Result<T>: a value or an Error. Accessing the wrong alternative is a bug and aborts loudly.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}       // NOLINT: implicit by design
  Result(Status status) : v_(failedError(status)) {}  // NOLINT: only from a failed Status

  bool isOk() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return isOk(); }

  const T& value() const& {
    check();
    return std::get<T>(v_);
  }
  T& value() & {
    check();
    return std::get<T>(v_);
  }
  T&& value() && {
    check();
    return std::get<T>(std::move(v_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  const Error& error() const {
    BRINDLE_CHECK(!isOk(), "Result::error() on a value");
    return std::get<Error>(v_);
  }
  ErrorCode code() const { return error().code; }
  const std::string& message() const { return error().message; }
  Status status() const { return isOk() ? Status() : Status(error()); }

 private:
  static Error failedError(const Status& status) {
    BRINDLE_CHECK(!status.isOk(), "Result built from an ok Status");
    return status.error();
  }
  void check() const {
    BRINDLE_CHECK(isOk(), "Result::value() on error: " + std::get<Error>(v_).message);
  }
  std::variant<T, Error> v_;
};

}  // namespace brindle

// BRINDLE_ASSIGN_OR_RETURN(auto block, Block::decode(text)): declares `block` as the value of
// the Result, or returns its error from the enclosing function (which returns a Status or a
// Result). The one spelling of "propagate a failure" (absl's ASSIGN_OR_RETURN).
#define BRINDLE_ASSIGN_OR_RETURN(decl, expr) \
  BRINDLE_ASSIGN_OR_RETURN_AT(BRINDLE_CONCAT(brindleResult, __LINE__), decl, expr)
#define BRINDLE_ASSIGN_OR_RETURN_AT(result, decl, expr) \
  auto result = (expr);                                 \
  if (!result) return result.error();                   \
  decl = std::move(result).value()
#define BRINDLE_CONCAT(a, b) BRINDLE_CONCAT_INNER(a, b)
#define BRINDLE_CONCAT_INNER(a, b) a##b
