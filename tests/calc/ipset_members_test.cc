// The ipset member calculator on its own: selector sets hold the addresses of every matching
// item (own or inherited labels), net sets their fixed CIDRs, and a shared address stays until
// its last holder goes. Its output goes through a real EventSequencer into a DataplaneState.
#include "calc/ipset_members.h"

#include <gtest/gtest.h>

#include "calc/dataplane_state.h"

namespace brindle::calc {
namespace {

Cidr cidr(const std::string& text) { return *Cidr::parse(text, true); }
std::set<Cidr> cidrs(std::initializer_list<const char*> texts) {
  std::set<Cidr> out;
  for (const char* t : texts) out.insert(cidr(t));
  return out;
}
selector::Selector sel(const std::string& text) { return *selector::Selector::parse(text); }

class IpSetMembersTest : public ::testing::Test {
 protected:
  const std::set<Cidr>& members(const std::string& id) {
    sequencer_.flush(state_);
    static const std::set<Cidr> kNone;
    auto it = state_.ipSets.find(id);
    return it == state_.ipSets.end() ? kNone : it->second;
  }

  EventSequencer sequencer_;
  DataplaneState state_;
  IpSetMemberCalculator calc_{sequencer_};
};

TEST_F(IpSetMembersTest, SelectorSetFollowsMatchingItemsAndTheirAddresses) {
  calc_.updateItem("w:a", {{"role", "db"}}, {}, {cidr("10.0.0.1/32"), cidr("fd00::1/128")});
  calc_.updateItem("w:b", {{"role", "web"}}, {}, {cidr("10.0.0.2/32")});
  calc_.addSelectorSet("s:db", sel("role == 'db'"));
  EXPECT_EQ(members("s:db"), cidrs({"10.0.0.1/32", "fd00::1/128"}));  // both families

  calc_.updateItem("w:b", {{"role", "db"}}, {}, {cidr("10.0.0.2/32")});
  EXPECT_EQ(members("s:db"), cidrs({"10.0.0.1/32", "10.0.0.2/32", "fd00::1/128"}));

  calc_.updateItem("w:a", {{"role", "db"}}, {}, {cidr("10.0.0.9/32")});  // new address
  EXPECT_EQ(members("s:db"), cidrs({"10.0.0.2/32", "10.0.0.9/32"}));

  calc_.updateItem("w:a", {{"role", "web"}}, {}, {cidr("10.0.0.9/32")});  // relabelled out
  EXPECT_EQ(members("s:db"), cidrs({"10.0.0.2/32"}));

  calc_.removeItem("w:b");
  ASSERT_EQ(state_.ipSets.count("s:db"), 1u);  // the set stays, empty
  EXPECT_TRUE(members("s:db").empty());
  calc_.removeItem("w:unknown");  // harmless
}

TEST_F(IpSetMembersTest, SharedAddressStaysUntilItsLastHolderGoes) {
  calc_.addSelectorSet("s:all", sel("all()"));
  calc_.updateItem("w:a", {}, {}, {cidr("10.0.0.1/32")});
  calc_.updateItem("ns:n", {}, {}, {cidr("10.0.0.1/32"), cidr("192.168.0.0/16")});
  EXPECT_EQ(members("s:all"), cidrs({"10.0.0.1/32", "192.168.0.0/16"}));
  calc_.removeItem("w:a");
  EXPECT_EQ(members("s:all"), cidrs({"10.0.0.1/32", "192.168.0.0/16"}));
  calc_.updateItem("ns:n", {}, {}, {cidr("192.168.0.0/16")});
  EXPECT_EQ(members("s:all"), cidrs({"192.168.0.0/16"}));
}

TEST_F(IpSetMembersTest, InheritedLabelsCount) {
  calc_.addSelectorSet("s:team", sel("team == 'red'"));
  calc_.updateItem("w:a", {}, {"prof"}, {cidr("10.0.0.1/32")});
  EXPECT_TRUE(members("s:team").empty());
  calc_.updateParent("prof", {{"team", "red"}});
  EXPECT_EQ(members("s:team"), cidrs({"10.0.0.1/32"}));
  calc_.removeParent("prof");
  EXPECT_TRUE(members("s:team").empty());
}

TEST_F(IpSetMembersTest, NetSetsHoldTheirCidrsAndRemovedSetsAreGone) {
  calc_.addNetSet("n:x", {cidr("10.0.0.0/8"), cidr("11.0.0.0/8")});
  calc_.updateItem("w:a", {}, {}, {cidr("10.0.0.1/32")});  // items never join a net set
  EXPECT_EQ(members("n:x"), cidrs({"10.0.0.0/8", "11.0.0.0/8"}));

  calc_.addSelectorSet("s:all", sel("all()"));
  members("s:all");
  calc_.removeSet("n:x");
  calc_.removeSet("s:all");
  sequencer_.flush(state_);
  EXPECT_TRUE(state_.ipSets.empty());
  // A set added again starts from the items there are then.
  calc_.addSelectorSet("s:all", sel("all()"));
  EXPECT_EQ(members("s:all"), cidrs({"10.0.0.1/32"}));
}

}  // namespace
}  // namespace brindle::calc
