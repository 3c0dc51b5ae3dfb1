// IpSetsImpl against the FakeIpset simulator: creation before use, deltas vs swap rewrites,
// mark-and-sweep at start, deletions only in applyDeletions(), failures and IPv6.
#include "dataplane/ipsets_impl.h"

#include <gtest/gtest.h>

#include "dataplane/testing/fake_ipset.h"

namespace brindle::dataplane {
namespace {

using testing::FakeIpset;

IpSetSpec spec(std::string name, IpVersion v = IpVersion::kV4, std::string type = "hash:net") {
  return IpSetSpec{std::move(name), std::move(type), v};
}

TEST(CanonicalMemberTest, MatchesWhatIpsetSavePrints) {
  EXPECT_EQ(canonicalMember("10.0.0.1/32", "hash:net", IpVersion::kV4), "10.0.0.1");
  EXPECT_EQ(canonicalMember("10.1.2.3/16", "hash:net", IpVersion::kV4), "10.1.0.0/16");
  EXPECT_EQ(canonicalMember("FD00:0::1/128", "hash:net", IpVersion::kV6), "fd00::1");
  EXPECT_EQ(canonicalMember("10.0.0.1", "hash:net", IpVersion::kV6), "");
  EXPECT_EQ(canonicalMember("10.0.0.0/8", "hash:ip", IpVersion::kV4), "");
  EXPECT_EQ(canonicalMember("10.0.0.1,tcp:80", "hash:ip,port", IpVersion::kV4), "10.0.0.1,tcp:80");
}

TEST(IpSetsTest, CreatesAndFillsInOneRestore) {
  FakeIpset fake;
  IpSetsImpl sets(fake);
  sets.replaceMembers(spec("cali40s:a"), {"10.0.0.1", "10.0.1.0/24"});
  sets.replaceMembers(spec("cali60s:a", IpVersion::kV6), {"fd00::1/128", "::/0"});
  ASSERT_TRUE(sets.applyUpdates());
  EXPECT_EQ(fake.restoreCalls(), 1);
  EXPECT_EQ(fake.set("cali40s:a").members, (std::set<std::string>{"10.0.0.1", "10.0.1.0/24"}));
  EXPECT_EQ(fake.set("cali60s:a").family, "inet6");
  EXPECT_EQ(fake.set("cali60s:a").members, (std::set<std::string>{"fd00::1", "::/1", "8000::/1"}));
  fake.clearHistory();
  ASSERT_TRUE(sets.applyUpdates());
  ASSERT_TRUE(sets.applyDeletions());
  EXPECT_EQ(fake.restoreCalls() + fake.saveCalls(), 0);
}

TEST(IpSetsTest, WholeSpaceAddedLaterIsWrittenAsTwoHalves) {
  // The agent creates a set empty and adds the members after: /0 must be split on this path too
  // (hash:net refuses "0.0.0.0/0").
  FakeIpset fake;
  IpSetsImpl sets(fake);
  sets.replaceMembers(spec("cali40n:a"), {});
  sets.replaceMembers(spec("cali60n:a", IpVersion::kV6), {});
  sets.addMembers("cali40n:a", {"0.0.0.0/0", "10.2.0.0/16"});
  sets.addMembers("cali60n:a", {"::/0"});
  ASSERT_TRUE(sets.applyUpdates());
  EXPECT_EQ(fake.set("cali40n:a").members,
            (std::set<std::string>{"0.0.0.0/1", "128.0.0.0/1", "10.2.0.0/16"}));
  EXPECT_EQ(fake.set("cali60n:a").members, (std::set<std::string>{"::/1", "8000::/1"}));
  // A half asked for on its own outlives the /0's removal; the other half goes.
  sets.addMembers("cali40n:a", {"128.0.0.0/1"});
  sets.removeMembers("cali40n:a", {"0.0.0.0/0"});
  ASSERT_TRUE(sets.applyUpdates());
  EXPECT_EQ(fake.set("cali40n:a").members, (std::set<std::string>{"128.0.0.0/1", "10.2.0.0/16"}));
  sets.removeMembers("cali60n:a", {"::/0"});
  ASSERT_TRUE(sets.applyUpdates());
  EXPECT_TRUE(fake.set("cali60n:a").members.empty());
}

TEST(IpSetsTest, AMemberTheSetCannotHoldFailsEveryApplyUntilRemoved) {
  // Reported once and then forgotten, the retry would report success with the member missing.
  FakeIpset fake;
  IpSetsImpl sets(fake);
  sets.replaceMembers(spec("cali40n:a"), {"10.0.0.1"});
  sets.addMembers("cali40n:a", {"fd00::1", "10.0.0.2"});
  Status first = sets.applyUpdates();
  EXPECT_FALSE(first);
  EXPECT_NE(first.message().find("bad member fd00::1"), std::string::npos) << first.message();
  EXPECT_EQ(fake.set("cali40n:a").members, (std::set<std::string>{"10.0.0.1", "10.0.0.2"}));
  EXPECT_FALSE(sets.applyUpdates()) << "the retry must not report success";
  sets.removeMembers("cali40n:a", {"fd00::1"});
  EXPECT_TRUE(sets.applyUpdates());
}

TEST(IpSetsTest, SmallChangesAreDeltasLargeOnesASwap) {
  FakeIpset fake;
  IpSetsImpl sets(fake);
  std::set<std::string> members;
  for (int i = 0; i < 100; ++i) members.insert("10.0.0." + std::to_string(i));
  sets.replaceMembers(spec("cali40s:a"), members);
  ASSERT_TRUE(sets.applyUpdates());
  fake.clearHistory();
  sets.addMembers("cali40s:a", {"10.0.1.1"});
  sets.removeMembers("cali40s:a", {"10.0.0.5"});
  ASSERT_TRUE(sets.applyUpdates());
  EXPECT_EQ(fake.restoreInputs().at(0), "del cali40s:a 10.0.0.5\nadd cali40s:a 10.0.1.1\n");
  std::set<std::string> other;
  for (int i = 0; i < 100; ++i) other.insert("10.9.0." + std::to_string(i));
  sets.replaceMembers(spec("cali40s:a"), other);
  ASSERT_TRUE(sets.applyUpdates());
  EXPECT_NE(fake.restoreInputs().at(1).find("swap cali4-tmp0 cali40s:a"), std::string::npos);
  EXPECT_EQ(fake.set("cali40s:a").members, other);
  EXPECT_FALSE(fake.has("cali4-tmp0"));
  EXPECT_EQ(sets.stats().rewrites, 1);
}

TEST(IpSetsTest, StartupReadsExistingSetsAndSweepsOnlyOursInApplyDeletions) {
  FakeIpset fake;
  ASSERT_TRUE(fake.run({{"ipset", "create", "cali40s:keep", "hash:net"}, ""}));
  ASSERT_TRUE(fake.run({{"ipset", "add", "cali40s:keep", "10.0.0.1"}, ""}));
  ASSERT_TRUE(fake.run({{"ipset", "add", "cali40s:keep", "10.0.0.2"}, ""}));
  ASSERT_TRUE(fake.run({{"ipset", "create", "cali40s:stale", "hash:net"}, ""}));
  ASSERT_TRUE(fake.run({{"ipset", "create", "docker-set", "hash:net"}, ""}));
  IpSetsImpl sets(fake);
  sets.replaceMembers(spec("cali40s:keep"), {"10.0.0.1", "10.0.0.2"});
  ASSERT_TRUE(sets.applyUpdates());
  EXPECT_EQ(fake.restoreCalls(), 0);       // restart with the same members: nothing written
  EXPECT_TRUE(fake.has("cali40s:stale"));  // rules may still use it until the tables applied
  ASSERT_TRUE(sets.applyDeletions());
  EXPECT_FALSE(fake.has("cali40s:stale"));
  EXPECT_TRUE(fake.has("docker-set"));
  EXPECT_TRUE(fake.has("cali40s:keep"));
}

TEST(IpSetsTest, RemovedSetIsDestroyedOnlyInApplyDeletions) {
  FakeIpset fake;
  bool inUse = true;
  fake.setInUse([&](const std::string&) { return inUse; });
  IpSetsImpl sets(fake);
  sets.replaceMembers(spec("cali40s:a"), {"10.0.0.1"});
  ASSERT_TRUE(sets.applyUpdates());
  sets.removeSet("cali40s:a");
  ASSERT_TRUE(sets.applyUpdates());
  EXPECT_TRUE(fake.has("cali40s:a"));
  EXPECT_FALSE(sets.applyDeletions());  // still used by a rule: error, stays pending
  EXPECT_TRUE(sets.dirty());
  inUse = false;
  ASSERT_TRUE(sets.applyUpdates());
  ASSERT_TRUE(sets.applyDeletions());
  EXPECT_FALSE(fake.has("cali40s:a"));
}

TEST(IpSetsTest, FailureIsRetriedAfterARead) {
  FakeIpset fake;
  IpSetsImpl sets(fake);
  sets.replaceMembers(spec("cali40s:a"), {"10.0.0.1"});
  fake.failNextRestore();
  EXPECT_FALSE(sets.applyUpdates());
  EXPECT_TRUE(sets.dirty());
  ASSERT_TRUE(sets.applyUpdates());
  EXPECT_EQ(fake.set("cali40s:a").members, std::set<std::string>{"10.0.0.1"});
  // Drift: someone deletes a member; a resync puts it back.
  ASSERT_TRUE(fake.run({{"ipset", "del", "cali40s:a", "10.0.0.1"}, ""}));
  sets.requestResync();
  ASSERT_TRUE(sets.applyUpdates());
  EXPECT_EQ(fake.set("cali40s:a").members, std::set<std::string>{"10.0.0.1"});
}

TEST(IpSetsTest, TypeChangeRecreatesAndBadInputIsReported) {
  FakeIpset fake;
  IpSetsImpl sets(fake);
  sets.replaceMembers(spec("cali40s:a"), {"10.0.0.1"});
  ASSERT_TRUE(sets.applyUpdates());
  sets.replaceMembers(spec("cali40s:a", IpVersion::kV4, "hash:ip"), {"10.0.0.2"});
  ASSERT_TRUE(sets.applyUpdates());
  EXPECT_EQ(fake.set("cali40s:a").type, "hash:ip");
  sets.replaceMembers(spec("cali40s:this-name-is-far-too-long-for-ipset"), {"10.0.0.1"});
  sets.replaceMembers(spec("cali40s:b"), {"not-an-ip", "10.0.0.3"});
  Status st = sets.applyUpdates();
  EXPECT_EQ(st.code(), ErrorCode::kInvalid);
  EXPECT_EQ(fake.set("cali40s:b").members, std::set<std::string>{"10.0.0.3"});
  EXPECT_FALSE(fake.has("cali40s:this-name-is-far-too-long-for-ipset"));
}

}  // namespace
}  // namespace brindle::dataplane
