// Every bad input of the shared table (tests/model/bad_inputs.h) is refused by `brindlectl apply`
// with its message, exit code 1, and the store is left exactly as it was.
#include "model/bad_inputs.h"

#include "cli_fixture.h"

namespace brindle::cli {
namespace {

class BadInputsTest : public CliFixture {
 protected:
  // Every key, value and revision under /calico/, and the store's revision.
  std::string snapshot() {
    auto client = openStore();
    if (!client) return "no store";
    auto listed = client->list("/calico/");
    EXPECT_TRUE(listed.isOk());
    std::string out = "revision " + std::to_string(listed->revision) + "\n";
    for (const auto& kv : listed->items) {
      out += kv.key + " " + std::to_string(kv.modRevision) + " " + kv.value + "\n";
    }
    return out;
  }
};

TEST_F(BadInputsTest, EachIsRefusedAndChangesNothing) {
  // Some state for a bad file to damage: the seed lab.
  ok({"create", "-f", example("seed-lab/endpoints.yaml")});
  ok({"create", "-f", example("seed-lab/policy.yaml")});
  ok({"create", "-f", example("seed-lab/profile.yaml")});
  ok({"create", "-f", example("lab/ippool.yaml")});
  const std::string before = snapshot();
  ASSERT_GE(testdata::badInputs().size(), 40u);
  for (const auto& row : testdata::badInputs()) {
    SCOPED_TRACE(row.name);
    const std::string path = dir_.write("input/" + row.file, row.text);
    for (const char* verb : {"apply", "create", "replace"}) {
      RunResult r = run({verb, "-f", path});
      EXPECT_EQ(r.code, 1) << verb;
      EXPECT_TRUE(r.out.empty()) << r.out;
      // Messages name the file by the path given on the command line.
      std::string expected = row.expected;
      if (expected.rfind(row.file, 0) == 0) expected = dir_.file("input/") + expected;
      EXPECT_NE(r.err.find(expected), std::string::npos)
          << verb << ": expected \"" << expected << "\" in: " << r.err;
    }
    EXPECT_EQ(snapshot(), before);
  }
}

}  // namespace
}  // namespace brindle::cli
