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

}  // namespace
}  // namespace brindle
