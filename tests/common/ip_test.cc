// IP and CIDR parsing, canonical text, containment and overlap.
#include "common/ip.h"

#include <gtest/gtest.h>

namespace brindle {
namespace {

TEST(IpTest, ParsesBothFamilies) {
  EXPECT_EQ(IpAddr::parse("172.16.1.3")->toString(), "172.16.1.3");
  EXPECT_EQ(IpAddr::parse("2001:db8:85a3:0:0:8a2e:370:7334")->toString(),
            "2001:db8:85a3::8a2e:370:7334");
  EXPECT_FALSE(IpAddr::parse("172.16.1.300").isOk());
  EXPECT_FALSE(IpAddr::parse("").isOk());
  EXPECT_FALSE(IpAddr::parse("1.2.3").isOk());
  EXPECT_EQ(IpAddr::parse("1.2.3.4x").message(), "\"1.2.3.4x\" is not an IP address");
}

TEST(CidrTest, ParsesAndNormalises) {
  EXPECT_EQ(Cidr::parse("172.16.1.1")->toString(), "172.16.1.1/32");
  EXPECT_EQ(Cidr::parse("fd80::1")->toString(), "fd80::1/128");
  EXPECT_EQ(Cidr::parse("10.1.2.3/16")->toString(), "10.1.0.0/16");
  EXPECT_EQ(Cidr::parse("2001:db8:85a3::8a2e:370:7334/120")->toString(),
            "2001:db8:85a3::8a2e:370:7300/120");
  EXPECT_FALSE(Cidr::parse("10.0.0.0/33").isOk());
  EXPECT_FALSE(Cidr::parse("10.0.0.0/").isOk());
  EXPECT_FALSE(Cidr::parse("10.0.0.0/-1").isOk());
  EXPECT_FALSE(Cidr::parse("10.0.0.0", /*allowBareIp=*/false).isOk());
}

TEST(CidrTest, ContainsAndOverlaps) {
  auto pool = *Cidr::parse("192.168.0.0/16");
  EXPECT_TRUE(pool.contains(*IpAddr::parse("192.168.200.1")));
  EXPECT_FALSE(pool.contains(*IpAddr::parse("192.169.0.1")));
  EXPECT_FALSE(pool.contains(*IpAddr::parse("fd80::1")));
  EXPECT_TRUE(pool.overlaps(*Cidr::parse("192.168.3.0/24")));
  EXPECT_TRUE(Cidr::parse("192.168.3.0/24")->overlaps(pool));
  EXPECT_FALSE(pool.overlaps(*Cidr::parse("10.0.0.0/8")));
  EXPECT_TRUE(pool.contains(*Cidr::parse("192.168.0.0/26")));
  EXPECT_FALSE(Cidr::parse("192.168.0.0/26")->contains(pool));
}

}  // namespace
}  // namespace brindle
