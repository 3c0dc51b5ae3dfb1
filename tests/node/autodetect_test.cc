// node::pickAddress on made-up hosts: each method picks the right interface and says why; the
// default exclusions, Calico's last-to-first order and the global-unicast filter hold.
#include "node/autodetect.h"

#include <gtest/gtest.h>

namespace brindle::node {
namespace {

InterfaceAddress addr(const std::string& cidr) {
  const size_t slash = cidr.find('/');
  return {*IpAddr::parse(cidr.substr(0, slash)), std::stoi(cidr.substr(slash + 1))};
}

// lo, docker0, eth0 (10.0.1.5/24), eth1 (10.0.2.5/24, fd00::5/64), veth1, in index order.
std::vector<HostInterface> host() {
  return {{"lo", {addr("127.0.0.1/8"), addr("::1/128")}},
          {"eth0", {addr("10.0.1.5/24"), addr("fe80::1/64")}},
          {"eth1", {addr("169.254.3.3/16"), addr("10.0.2.5/24"), addr("fd00::5/64")}},
          {"docker0", {addr("172.17.0.1/16")}},
          {"veth1", {addr("10.9.9.9/24")}}};
}

Result<IpAddr> noLookup(const std::string&, int) {
  return makeError(ErrorCode::kNotFound, "unused");
}

DetectedAddress pick(const std::string& method, int family = 4,
                     const SourceLookup& lookup = noLookup) {
  auto m = parseAutodetectMethod(method, "--ip-autodetection-method");
  EXPECT_TRUE(m) << m.message();
  auto d = pickAddress(*m, family, host(), lookup);
  EXPECT_TRUE(d) << d.message();
  return d ? *d : DetectedAddress{};
}

TEST(Autodetect, FirstFoundWalksLastToFirstSkippingDefaults) {
  auto d = pick("first-found");
  EXPECT_EQ(d.interface, "eth1");              // docker0 and veth1 come later but are excluded
  EXPECT_EQ(d.address.text(), "10.0.2.5/24");  // the link-local address is skipped
  EXPECT_NE(d.reason.find("first-found"), std::string::npos);
  EXPECT_NE(d.reason.find("; passed over: eth0 10.0.1.5/24, docker0 172.17.0.1/16 (excluded), "
                          "veth1 10.9.9.9/24 (excluded)"),
            std::string::npos)
      << d.reason;
  EXPECT_EQ(pick("").interface, "eth1");
  EXPECT_EQ(pick("first-found", 6).address.text(), "fd00::5/64");
}

TEST(Autodetect, InterfaceRegexes) {
  auto d = pick("interface=eth0");
  EXPECT_EQ(d.address.text(), "10.0.1.5/24");
  EXPECT_NE(d.reason.find("eth0 matches eth0"), std::string::npos) << d.reason;
  EXPECT_EQ(pick("interface=nomatch, eth0").interface, "eth0");
  // Regexes search anywhere in the name, as Go's MatchString: "eth1" matches veth1 too, which
  // comes last in the list, so it wins.
  EXPECT_EQ(pick("interface=eth1").interface, "veth1");
  EXPECT_EQ(pick("interface=^eth1$").interface, "eth1");
  // interface= has no default exclusions.
  EXPECT_EQ(pick("interface=docker.*").address.text(), "172.17.0.1/16");
}

TEST(Autodetect, SkipInterface) {
  EXPECT_EQ(pick("skip-interface=eth1").interface, "eth0");
  auto m = parseAutodetectMethod("skip-interface=eth1, eth0", "--ip-autodetection-method");
  ASSERT_TRUE(m);
  EXPECT_FALSE(pickAddress(*m, 4, host(), noLookup));  // nothing left
}

TEST(Autodetect, Cidr) {
  auto d = pick("cidr=10.0.1.0/24");
  EXPECT_EQ(d.interface, "eth0");
  EXPECT_NE(d.reason.find("10.0.1.5 lies in 10.0.1.0/24"), std::string::npos) << d.reason;
  EXPECT_EQ(pick("cidr=192.168.0.0/16, 10.0.2.0/24").interface, "eth1");
}

TEST(Autodetect, CanReachUsesTheKernelsSourceAddress) {
  auto lookup = [](const std::string& dest, int family) -> Result<IpAddr> {
    EXPECT_EQ(dest, "8.8.8.8");
    EXPECT_EQ(family, 4);
    return *IpAddr::parse("10.0.1.5");
  };
  auto d = pick("can-reach=8.8.8.8", 4, lookup);
  EXPECT_EQ(d.interface, "eth0");
  EXPECT_NE(d.reason.find("from 10.0.1.5"), std::string::npos) << d.reason;
}

TEST(Autodetect, ErrorsSayWhatWasTried) {
  auto m = parseAutodetectMethod("skip-interface=eth.*", "--ip-autodetection-method");
  ASSERT_TRUE(m);
  auto d = pickAddress(*m, 4, host(), noLookup);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.code(), ErrorCode::kNotFound);
  EXPECT_NE(d.message().find("interfaces: lo, eth0, eth1, docker0, veth1"), std::string::npos)
      << d.message();
  auto bad = parseAutodetectMethod("cidr=10.0.0.0/33", "--ip-autodetection-method");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("--ip-autodetection-method cidr=10.0.0.0/33: invalid CIDR"),
            std::string::npos)
      << bad.message();
  EXPECT_FALSE(parseAutodetectMethod("nic=eth0", "--ip-autodetection-method"));
  EXPECT_FALSE(parseAutodetectMethod("interface=", "--ip-autodetection-method"));
  auto regex = parseAutodetectMethod("interface=eth[", "--ip-autodetection-method");
  ASSERT_TRUE(regex);
  auto r = pickAddress(*regex, 4, host(), noLookup);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), ErrorCode::kInvalid);
}

// calico/node's pool selector: the default pool never holds a host address (the seed's nodes sit
// at 192.168.40.x, inside 192.168.0.0/16).
TEST(Autodetect, DefaultIpv4PoolAvoidsTheHostsAddresses) {
  EXPECT_EQ(defaultIpv4PoolCidr(host()), "192.168.0.0/16");
  auto seedNode = host();
  seedNode.push_back({"eth2", {addr("192.168.40.11/24")}});
  EXPECT_EQ(defaultIpv4PoolCidr(seedNode), "172.16.0.0/16");
  seedNode.push_back({"eth3", {addr("172.16.5.1/24")}});  // docker0 already holds 172.17.0.1
  EXPECT_EQ(defaultIpv4PoolCidr(seedNode), "172.18.0.0/16");
  std::vector<HostInterface> full = {{"eth0", {addr("192.168.1.1/24")}}};
  for (int second = 16; second <= 31; ++second) {
    full.push_back(
        {"e" + std::to_string(second), {addr("172." + std::to_string(second) + ".0.1/16")}});
  }
  EXPECT_EQ(defaultIpv4PoolCidr(full), "192.168.0.0/16");  // none free: the preferred one
}

}  // namespace
}  // namespace brindle::node
