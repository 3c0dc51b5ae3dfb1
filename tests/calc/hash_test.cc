// Tests of calc/hash: Calico-style ids and shortened names.
#include "calc/hash.h"

#include <gtest/gtest.h>

#include "calc/rule_scanner.h"
#include "selector/selector.h"

namespace brindle::calc {
namespace {

TEST(Hash, UniqueIdShape) {
  std::string id = uniqueId("s", "namespace == \"default\"");
  EXPECT_EQ(id.substr(0, 2), "s:");
  EXPECT_EQ(id.size(), 2u + 38u);  // 28 bytes -> 38 base64 characters
  EXPECT_EQ(id, uniqueId("s", "namespace == \"default\""));
  EXPECT_NE(id, uniqueId("s", "namespace == \"other\""));
}

// Known values from Calico's own selector tests (libcalico-go selector parser_test.go,
// canonicalisation table): the same text gives the same id as Felix, so the same ipset name.
TEST(Hash, SelectorIdsAreFelixs) {
  struct Case {
    const char* input;
    const char* canonical;
    const char* id;
  } cases[] = {
      {"", "all()", "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"},
      {" (all() )", "all()", "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"},
      {"! (has( b)||! has(a ))", "!(has(b) || !has(a))",
       "s:Iss0uCleLYv1GSv_pNm7hAO58kE9jAx1NKyG3Q"},
      {R"(! (a == "b"&&! c != "d"))", R"(!(a == "b" && !c != "d"))",
       "s:lh3haoY1ikTRkd4UZu0nWSaIBknYLPJLX16d-w"},
  };
  for (const auto& c : cases) {
    auto sel = selector::Selector::parse(c.input);
    ASSERT_TRUE(sel.isOk()) << c.input;
    EXPECT_EQ(sel->canonical(), c.canonical);
    EXPECT_EQ(selectorIpSetId(*sel), c.id) << c.input;
  }
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
