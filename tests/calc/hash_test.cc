// Tests of calc/hash: Calico-style ids and shortened names.
#include "calc/hash.h"

#include <gtest/gtest.h>

namespace brindle::calc {
namespace {

TEST(Hash, UniqueIdShape) {
  std::string id = uniqueId("s", "namespace == \"default\"");
  EXPECT_EQ(id.substr(0, 2), "s:");
  EXPECT_EQ(id.size(), 2u + 38u);  // 28 bytes -> 38 base64 characters
  EXPECT_EQ(id, uniqueId("s", "namespace == \"default\""));
  EXPECT_NE(id, uniqueId("s", "namespace == \"other\""));
}

TEST(Hash, LengthLimitedId) {
  EXPECT_EQ(lengthLimitedId("cali-pi-", "namespace-default", 28), "cali-pi-namespace-default");
  std::string longName = lengthLimitedId("cali-pi-", "a-very-long-policy-name-indeed", 28);
  EXPECT_EQ(longName.size(), 28u);
  EXPECT_EQ(longName.substr(0, 9), "cali-pi-_");
  // Exactly at the limit but starting with '_' is hashed too, so it cannot clash.
  std::string underscored = lengthLimitedId("p-", "_bc", 5);
  EXPECT_EQ(underscored.substr(0, 3), "p-_");
  EXPECT_NE(underscored, "p-_bc");
}

}  // namespace
}  // namespace brindle::calc
