// Result and Status behave as values and carry their error.
#include "common/result.h"

#include <gtest/gtest.h>

namespace brindle {
namespace {

Result<int> half(int x) {
  if (x % 2 != 0) return makeError(ErrorCode::kInvalid, "odd");
  return x / 2;
}

TEST(ResultTest, CarriesValueOrError) {
  auto ok = half(4);
  ASSERT_TRUE(ok.isOk());
  EXPECT_EQ(*ok, 2);
  auto bad = half(3);
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.code(), ErrorCode::kInvalid);
  EXPECT_EQ(bad.message(), "odd");
  EXPECT_FALSE(bad.status().isOk());
}

TEST(ResultTest, StatusDefaultsToOk) {
  Status s;
  EXPECT_TRUE(s.isOk());
  Status e = makeError(ErrorCode::kConflict, "moved");
  EXPECT_EQ(e.code(), ErrorCode::kConflict);
  EXPECT_STREQ(errorCodeName(e.code()), "conflict");
}

// Asking an ok Status for its error, or building a Result from one, is a bug: it aborts with a
// message instead of reading an empty optional (undefined behaviour).
TEST(ResultDeathTest, OkStatusHasNoError) {
  EXPECT_DEATH((void)Status::ok().error(), "Status::error\\(\\) on an ok Status");
  EXPECT_DEATH((void)Status::ok().message(), "on an ok Status");
  EXPECT_DEATH(Result<int>{Status::ok()}, "Result built from an ok Status");
}

}  // namespace
}  // namespace brindle
