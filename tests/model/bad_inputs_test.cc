// Runs every row of the shared bad-input table through decodeResources: each must be rejected
// with its message.
#include <gtest/gtest.h>

#include <set>

#include "bad_inputs.h"
#include "model/codec.h"

namespace brindle::model {
namespace {

using testdata::BadInput;

class BadInputTest : public testing::TestWithParam<BadInput> {};

TEST_P(BadInputTest, Rejected) {
  const BadInput& c = GetParam();
  auto decoded = decodeResources(c.text, c.file);
  ASSERT_FALSE(decoded.isOk()) << "accepted:\n" << c.text;
  EXPECT_EQ(decoded.code(), ErrorCode::kInvalid);
  EXPECT_NE(decoded.message().find(c.expected), std::string::npos)
      << "message:  " << decoded.message() << "\nexpected: " << c.expected;
}

INSTANTIATE_TEST_SUITE_P(Table, BadInputTest, testing::ValuesIn(testdata::badInputs()),
                         [](const testing::TestParamInfo<BadInput>& info) {
                           std::string n;
                           for (char ch : info.param.name) n += std::isalnum(ch) ? ch : '_';
                           return n;
                         });

TEST(BadInputTableTest, NamesUniqueAndEnoughRows) {
  std::set<std::string> names;
  for (const auto& row : testdata::badInputs()) {
    EXPECT_TRUE(names.insert(row.name).second) << row.name;
  }
  EXPECT_GE(testdata::badInputs().size(), 45u);
}

// The seed's own files, fixed up, must pass: the table's failures come from the one bad field.
TEST(BadInputTableTest, SeedEndpointsAreValid) {
  auto decoded = decodeResources(testdata::seedEndpoints("    interfaceName: cali0ef24b2\n"
                                                         "    mac: ca:fe:1d:52:bb:e2\n"
                                                         "    ipNetworks:\n"
                                                         "    - 172.16.1.2\n"),
                                 "endpoints.yaml");
  ASSERT_TRUE(decoded.isOk()) << decoded.message();
  EXPECT_EQ(decoded->resources.size(), 3u);
}

}  // namespace
}  // namespace brindle::model
