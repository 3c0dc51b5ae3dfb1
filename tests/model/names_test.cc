// The hand-written name grammars accept and refuse what Kubernetes' and Calico's patterns do.
#include "model/names.h"

#include <gtest/gtest.h>

#include <string>

namespace brindle::model {
namespace {

TEST(NamesTest, DnsLabelAndSubdomain) {
  EXPECT_TRUE(isDnsLabel("a"));
  EXPECT_TRUE(isDnsLabel("slave1-k8s"));
  EXPECT_FALSE(isDnsLabel(""));
  EXPECT_FALSE(isDnsLabel("-a"));
  EXPECT_FALSE(isDnsLabel("a-"));
  EXPECT_FALSE(isDnsLabel("A"));
  EXPECT_FALSE(isDnsLabel("a.b"));
  EXPECT_FALSE(isDnsLabel(std::string(64, 'a')));
  EXPECT_TRUE(isDnsLabel(std::string(63, 'a')));
  EXPECT_TRUE(isDnsSubdomain("rack1-host1.192-168-1-1"));
  EXPECT_FALSE(isDnsSubdomain("a..b"));
  EXPECT_FALSE(isDnsSubdomain(".a"));
  EXPECT_FALSE(isDnsSubdomain("a."));
  EXPECT_FALSE(isDnsSubdomain("a_b"));
  EXPECT_FALSE(isDnsSubdomain(std::string(127, 'a') + "." + std::string(126, 'b')));
  EXPECT_TRUE(isDnsSubdomain(std::string(253, 'a')));  // no limit per part, as in Kubernetes
}

TEST(NamesTest, LabelKeysAndValues) {
  EXPECT_TRUE(isQualifiedName("app"));
  EXPECT_TRUE(isQualifiedName("projectcalico.org/namespace"));
  EXPECT_TRUE(isQualifiedName("Under_score.dot-dash"));
  EXPECT_FALSE(isQualifiedName("/x"));
  EXPECT_FALSE(isQualifiedName("a/"));
  EXPECT_FALSE(isQualifiedName("Bad.Prefix/x"));
  EXPECT_FALSE(isQualifiedName("x_"));
  EXPECT_TRUE(isLabelValue(""));
  EXPECT_TRUE(isLabelValue("frontend"));
  EXPECT_FALSE(isLabelValue("has space"));
  EXPECT_FALSE(isLabelValue(std::string(64, 'v')));
}

TEST(NamesTest, InterfacesMacsContainers) {
  EXPECT_TRUE(isInterfaceName("cali0ef24b1"));
  EXPECT_FALSE(isInterfaceName("cali0ef24b2cafe123"));
  EXPECT_FALSE(isInterfaceName(""));
  EXPECT_FALSE(isInterfaceName("eth 0"));
  EXPECT_TRUE(isMacAddress("ca:fe:1d:52:bb:e1"));
  EXPECT_TRUE(isMacAddress("CA-FE-1D-52-BB-E1"));
  EXPECT_FALSE(isMacAddress("ca:fe:1d:52:bb"));
  EXPECT_FALSE(isMacAddress("ca:fe-1d:52:bb:e1"));
  EXPECT_FALSE(isMacAddress("ca:fe:1d:52:bb:eg"));
  EXPECT_TRUE(isContainerId("a1b2c3"));
  EXPECT_FALSE(isContainerId("-a"));
}

}  // namespace
}  // namespace brindle::model
