// IptablesWriter against the simulators: several tables in one save and one restore, early
// sections for many new chains (leaf chains first, nothing reachable before the final section),
// the gate between them, and the ipset fill that runs behind it.
#include "dataplane/iptables_writer.h"

#include <gtest/gtest.h>

#include "dataplane/ipsets_impl.h"
#include "dataplane/testing/fake_ipset.h"
#include "dataplane/testing/fake_iptables.h"

namespace brindle::dataplane {
namespace {

using testing::FakeIpset;
using testing::FakeIptables;

// Counts "*filter" headers: one per transaction of the table.
size_t sections(const std::string& input, const std::string& table) {
  size_t n = 0;
  for (size_t at = input.find("*" + table + "\n"); at != std::string::npos;
       at = input.find("*" + table + "\n", at + 1)) {
    ++n;
  }
  return n;
}

// The most chains one "*table ... COMMIT" section of `input` declares.
size_t maxDeclarationsPerSection(const std::string& input) {
  size_t most = 0, current = 0;
  size_t start = 0;
  while (start < input.size()) {
    size_t nl = input.find('\n', start);
    std::string_view line(input.data() + start,
                          (nl == std::string::npos ? input.size() : nl) - start);
    start = nl == std::string::npos ? input.size() : nl + 1;
    if (line.starts_with("*")) current = 0;
    if (line.starts_with(":")) most = std::max(most, ++current);
  }
  return most;
}

class IptablesWriterTest : public ::testing::Test {
 protected:
  // 150 policy chains and 150 endpoint chains jumping to them, a dispatch chain jumping to the
  // endpoint chains, and the hook: the shape of an agent's cold start, small.
  void desireManyChains(IptablesTable& t, int n = 150) {
    Chain dispatch{"cali-dispatch", {}};
    for (int i = 0; i < n; ++i) {
      std::string id = std::to_string(i);
      t.updateChain({"cali-pi-" + id, {{Match().sourceIpSet("cali40s:x"), Action::accept(), ""}}});
      t.updateChain(
          {"cali-tw-" + id, {{{}, Action::jump("cali-pi-" + id), ""}, {{}, Action::drop(), ""}}});
      dispatch.rules.push_back(
          {Match().outInterface("cali" + id), Action::goTo("cali-tw-" + id), ""});
    }
    t.updateChain(dispatch);
    t.setRuleInsertions("FORWARD", {{{}, Action::jump("cali-dispatch"), ""}});
  }

  FakeIptables fake_;
  FakeIpset ipset_;
  IptablesTable raw_{TableName::kRaw, IpVersion::kV4, fake_};
  IptablesTable filter_{TableName::kFilter, IpVersion::kV4, fake_};
  IptablesWriter writer_{{&raw_, &filter_}};
};

TEST_F(IptablesWriterTest, AllTablesInOneSaveAndOneRestore) {
  raw_.updateChain({"cali-PREROUTING", {{{}, Action::accept(), ""}}});
  raw_.setRuleInsertions("PREROUTING", {{{}, Action::jump("cali-PREROUTING"), ""}});
  filter_.updateChain({"cali-FORWARD", {{{}, Action::accept(), ""}}});
  filter_.setRuleInsertions("FORWARD", {{{}, Action::jump("cali-FORWARD"), ""}});
  ASSERT_TRUE(writer_.apply());
  EXPECT_EQ(fake_.saveCalls(), 1);
  EXPECT_EQ(fake_.restoreCalls(), 1);
  EXPECT_TRUE(fake_.hasChain(IpVersion::kV4, "raw", "cali-PREROUTING"));
  EXPECT_TRUE(fake_.hasChain(IpVersion::kV4, "filter", "cali-FORWARD"));
  // Nothing changed: no program at all; one table changed: one restore, no save.
  ASSERT_TRUE(writer_.apply());
  EXPECT_EQ(fake_.restoreCalls(), 1);
  filter_.updateChain({"cali-FORWARD", {{{}, Action::drop(), ""}}});
  ASSERT_TRUE(writer_.apply());
  EXPECT_EQ(fake_.saveCalls(), 1);
  EXPECT_EQ(fake_.restoreCalls(), 2);
  EXPECT_EQ(sections(fake_.restoreInputs().back(), "raw"), 0u);
}

TEST_F(IptablesWriterTest, ManyNewChainsGoInEarlyWavesLeafChainsFirst) {
  fake_.setIpsetExists([](const std::string&) { return true; });
  desireManyChains(filter_);
  ASSERT_TRUE(writer_.apply());
  // 150 policy chains (level 0) and 150 endpoint chains (level 1) in early waves of sections
  // of 100, each wave's lanes in their own restores; the dispatch chain (the last level) with
  // the hook in the final restore.
  const auto& inputs = fake_.restoreInputs();
  ASSERT_GE(inputs.size(), 3u);
  EXPECT_EQ(writer_.stats().restores, static_cast<int>(inputs.size()));
  const std::string& final = inputs.back();
  EXPECT_EQ(sections(final, "filter"), 1u) << final.substr(0, 2000);
  EXPECT_NE(final.find(":cali-dispatch "), std::string::npos);
  EXPECT_NE(final.find("-I FORWARD 1"), std::string::npos);
  EXPECT_EQ(final.find(":cali-tw-"), std::string::npos);
  size_t lastPolicyRestore = 0, firstEndpointRestore = inputs.size();
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_LE(maxDeclarationsPerSection(inputs[i]), 100u);
    if (inputs[i].find(":cali-pi-") != std::string::npos) lastPolicyRestore = i;
    if (inputs[i].find(":cali-tw-") != std::string::npos)
      firstEndpointRestore = std::min(firstEndpointRestore, i);
  }
  EXPECT_LT(lastPolicyRestore, firstEndpointRestore);  // jump targets committed first
  EXPECT_EQ(fake_.rules(IpVersion::kV4, "filter", "cali-dispatch").size(), 150u);
  EXPECT_EQ(fake_.rules(IpVersion::kV4, "filter", "cali-tw-149").size(), 2u);
  // A few new chains later stay in one transaction.
  int restores = fake_.restoreCalls();
  filter_.updateChain({"cali-pi-new", {{{}, Action::accept(), ""}}});
  filter_.updateChain({"cali-tw-new", {{{}, Action::jump("cali-pi-new"), ""}}});
  ASSERT_TRUE(writer_.apply());
  EXPECT_EQ(fake_.restoreCalls(), restores + 1);
  EXPECT_EQ(sections(fake_.restoreInputs().back(), "filter"), 1u);
}

TEST_F(IptablesWriterTest, ClosedGateWritesNothingFinalAndTheNextApplyRereads) {
  desireManyChains(filter_);
  int gateCalls = 0;
  Status s = writer_.apply([&] {
    ++gateCalls;
    return makeError(ErrorCode::kUnavailable, "ipset: injected");
  });
  EXPECT_FALSE(s.isOk());
  EXPECT_EQ(s.message(), "ipset: injected");
  EXPECT_EQ(gateCalls, 1);
  EXPECT_FALSE(fake_.hasChain(IpVersion::kV4, "filter", "cali-dispatch"));
  EXPECT_TRUE(filter_.needsRead());
  EXPECT_TRUE(filter_.dirty());
  ASSERT_TRUE(writer_.apply([&] {
    ++gateCalls;
    return Status::ok();
  }));
  EXPECT_EQ(gateCalls, 2);
  EXPECT_EQ(fake_.saveCalls(), 2);
  EXPECT_EQ(fake_.rules(IpVersion::kV4, "filter", "FORWARD").size(), 1u);
}

TEST_F(IptablesWriterTest, GateIsCalledOnceAlsoWhenNothingIsWrittenOrTheSaveFails) {
  int gateCalls = 0;
  auto gate = [&] {
    ++gateCalls;
    return Status::ok();
  };
  ASSERT_TRUE(writer_.apply(gate));  // first apply: a read, nothing to write
  EXPECT_EQ(gateCalls, 1);
  EXPECT_EQ(fake_.restoreCalls(), 0);
  raw_.requestResync();
  fake_.failNextSave();
  EXPECT_FALSE(writer_.apply(gate));
  EXPECT_EQ(gateCalls, 2);
}

TEST_F(IptablesWriterTest, FailedFinalSectionLeavesEveryTableToBeReread) {
  desireManyChains(filter_);
  raw_.updateChain({"cali-PREROUTING", {{{}, Action::accept(), ""}}});
  ASSERT_TRUE(writer_.apply());
  filter_.updateChain(
      {"cali-dispatch", {{{}, Action::jump("cali-missing"), ""}}});  // fails in the kernel
  EXPECT_FALSE(writer_.apply());
  EXPECT_TRUE(raw_.needsRead());
  EXPECT_TRUE(filter_.needsRead());
  filter_.updateChain({"cali-dispatch", {{{}, Action::jump("cali-tw-1"), ""}}});
  ASSERT_TRUE(writer_.apply());
  EXPECT_EQ(fake_.rules(IpVersion::kV4, "filter", "cali-dispatch").size(), 1u);
}

TEST(IpSetsCreationTest, NewSetsAreCreatedEmptyThenFilledInPlace) {
  FakeIpset fake;
  IpSetsImpl sets(fake);
  std::set<std::string> members;
  for (int i = 1; i <= 40; ++i) members.insert("10.0.0." + std::to_string(i));
  sets.replaceMembers({"cali40s:a", "hash:net", IpVersion::kV4}, members);
  ASSERT_TRUE(sets.applyCreations());
  ASSERT_TRUE(fake.has("cali40s:a"));
  EXPECT_TRUE(fake.set("cali40s:a").members.empty());
  ASSERT_TRUE(sets.applyUpdates());
  EXPECT_EQ(fake.set("cali40s:a").members.size(), 40u);
  // Filled in place: no temporary set and swap for a set no rule could use yet.
  EXPECT_EQ(sets.stats().rewrites, 0);
  EXPECT_EQ(fake.restoreInputs().back().find("swap"), std::string::npos);
  // Nothing new: creations write nothing.
  int restores = fake.restoreCalls();
  ASSERT_TRUE(sets.applyCreations());
  EXPECT_EQ(fake.restoreCalls(), restores);
}

}  // namespace
}  // namespace brindle::dataplane
