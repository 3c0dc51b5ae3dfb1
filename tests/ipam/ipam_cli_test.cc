// brindlectl ipam show / release / check / configure against a private store, with the
// allocations made through the IPAM library as the CNI plugin makes them.
#include <gtest/gtest.h>

#include "backend.h"
#include "cli/cli_fixture.h"
#include "fixtures.h"
#include "ipam/block.h"
#include "ipam/ipam.h"

namespace brindle::cli {
namespace {

using model::Json;
using model::Kind;

class IpamCliTest : public CliFixture {
 protected:
  void SetUp() override {
    auto c = ipam::test::openBackend(dir_.path());  // the fixture's store.db
    ASSERT_TRUE(c.isOk()) << c.message();
    client_ = std::move(*c);
    ipam_ = ipam::makeIpam(*client_);
    ipam::test::createPool(*client_, "pool-a", "10.0.0.0/16");
  }

  std::string allocate(const std::string& node, const std::string& handle) {
    ipam::AssignArgs a;
    a.node = node;
    a.handle = handle;
    a.attributes = {{"node", node}, {"pod", handle}};
    auto r = ipam_->autoAssign(a);
    EXPECT_TRUE(r.isOk()) << r.message();
    return r ? r->ipv4[0].address().toString() : "";
  }

  void endpoint(const std::string& name, const std::string& node, const std::string& ip) {
    ipam::test::createResource(*client_, Kind::kWorkloadEndpoint, name,
                               {{"node", node},
                                {"orchestrator", "k8s"},
                                {"pod", name},
                                {"endpoint", "eth0"},
                                {"interfaceName", "cali0123456789a"},
                                {"ipNetworks", {ip + "/32"}}});
  }

  datastore::ClientPtr client_;
  ipam::IpamPtr ipam_;
};

TEST_F(IpamCliTest, ShowPrintsCalicoctlTable) {
  EXPECT_EQ(ok({"ipam", "show"}),
            "+----------+-------------+-----------+------------+--------------+--------------+\n"
            "| GROUPING | CIDR        | IPS TOTAL | IPS IN USE | IPS RESERVED | IPS FREE     |\n"
            "+----------+-------------+-----------+------------+--------------+--------------+\n"
            "| IP Pool  | 10.0.0.0/16 |     65536 |     0 (0%) |       0 (0%) | 65536 (100%) |\n"
            "+----------+-------------+-----------+------------+--------------+--------------+\n");
  for (int i = 0; i < 3; ++i) allocate("n1", "h" + std::to_string(i));
  std::string out = ok({"ipam", "show", "--show-blocks"});
  EXPECT_NE(out.find("AFFINITY"), std::string::npos) << out;
  EXPECT_NE(out.find("| IP Pool  | 10.0.0.0/16"), std::string::npos) << out;
  EXPECT_NE(out.find("|     3 (0%) |"), std::string::npos) << out;
  EXPECT_NE(out.find("| Block    |"), std::string::npos) << out;
  EXPECT_NE(out.find("|        64 |"), std::string::npos) << out;
  EXPECT_NE(out.find("3 (5%)"), std::string::npos) << out;
  EXPECT_NE(out.find("61 (95%)"), std::string::npos) << out;
  EXPECT_NE(out.find("host:n1"), std::string::npos) << out;
}

TEST_F(IpamCliTest, ShowIpv6PoolUsesCalicoctlNumberFormat) {
  ipam::test::createPool(*client_, "pool-6", "fd80:24e2:f998:72d6::/64");
  std::string out = ok({"ipam", "show"});
  EXPECT_NE(out.find("fd80:24e2:f998:72d6::/64 | 1.8447e+19 |"), std::string::npos) << out;
  EXPECT_NE(out.find("1.8447e+19 (100%)"), std::string::npos) << out;
}

TEST_F(IpamCliTest, ShowIpAndRelease) {
  const std::string ip = allocate("n1", "pod-1");
  const std::string block = ipam::blockOf(*IpAddr::parse(ip), 26).toString();
  EXPECT_EQ(ok({"ipam", "show", "--ip=" + ip}),
            "IP " + ip + " is in use\nHandle ID: pod-1\nActive Owner Attributes:\n  node: n1\n" +
                "  pod: pod-1\nBlock: " + block + "\n");
  EXPECT_EQ(ok({"ipam", "release", "--ip=" + ip}), "Successfully released IP address " + ip + "\n");
  EXPECT_EQ(ok({"ipam", "show", "--ip", ip}), ip + " is not assigned\n");
  RunResult again = run({"ipam", "release", "--ip=" + ip});
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(again.err, "IP address " + ip + " is not assigned\n");
  EXPECT_EQ(run({"ipam", "show", "--ip=nonsense"}).code, 1);
  EXPECT_EQ(run({"ipam", "release"}).code, 1);  // --ip is required
}

TEST_F(IpamCliTest, ConfigureStrictAffinity) {
  EXPECT_EQ(ok({"ipam", "configure", "--strictaffinity=true"}),
            "Successfully set StrictAffinity to: true\n");
  EXPECT_TRUE(*ipam_->strictAffinity());
  EXPECT_NE(ok({"ipam", "show", "--show-configuration"}).find("| StrictAffinity     | true "),
            std::string::npos);
  EXPECT_EQ(ok({"ipam", "configure", "--strictaffinity=false"}),
            "Successfully set StrictAffinity to: false\n");
  EXPECT_FALSE(*ipam_->strictAffinity());
  RunResult bad = run({"ipam", "configure", "--strictaffinity=maybe"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("true or false"), std::string::npos);
}

TEST_F(IpamCliTest, CheckFindsLeaksAndFixAsksFirst) {
  const std::string used = allocate("n1", "pod-used");
  const std::string leaked = allocate("n1", "pod-leaked");
  endpoint("pod-used", "n1", used);
  endpoint("pod-noalloc", "n1", "10.0.200.1");  // in the pool, never allocated
  ASSERT_TRUE(client_->create(ipam::handleKey("orphan"), R"({"block":{},"deleted":false})"));

  std::string out = ok({"ipam", "check"});
  EXPECT_NE(out.find("  " + leaked + " leaked; handle pod-leaked"), std::string::npos) << out;
  EXPECT_EQ(out.find("  " + used + " leaked"), std::string::npos) << out;
  EXPECT_NE(out.find("10.0.200.1 in use by WorkloadEndpoint(default/pod-noalloc) and in active "
                     "IPAM pool but has no IPAM allocation."),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("  orphan doesn't have any active IPs."), std::string::npos) << out;
  EXPECT_NE(out.find("No Node resources in the datastore"), std::string::npos) << out;
  EXPECT_NE(out.find("Check complete; found 3 problems."), std::string::npos) << out;

  // Declined: nothing changes.
  RunResult no = run({"ipam", "check", "--fix"}, "n\n");
  EXPECT_EQ(no.code, 1);
  EXPECT_NE(no.out.find("Nothing changed."), std::string::npos) << no.out;
  EXPECT_TRUE(ipam_->getAllocation(*IpAddr::parse(leaked)).isOk());

  RunResult yes = run({"ipam", "check", "--fix"}, "y\n");
  EXPECT_EQ(yes.code, 0) << yes.err;
  EXPECT_NE(yes.out.find("Released 1 IPs successfully"), std::string::npos) << yes.out;
  EXPECT_NE(yes.out.find("Released 1 handles; 0 skipped"), std::string::npos) << yes.out;
  EXPECT_EQ(ipam_->getAllocation(*IpAddr::parse(leaked)).code(), ErrorCode::kNotFound);
  EXPECT_TRUE(ipam_->getAllocation(*IpAddr::parse(used)).isOk());
  EXPECT_EQ(client_->get(ipam::handleKey("orphan")).code(), ErrorCode::kNotFound);
  // What is left is the endpoint without an allocation, which --fix does not invent.
  EXPECT_NE(ok({"ipam", "check"}).find("Check complete; found 1 problems."), std::string::npos);
}

TEST_F(IpamCliTest, CheckReleasesBlocksOfNodesThatAreGone) {
  ipam::test::createResource(*client_, Kind::kNode, "n1", Json::object());
  const std::string live = allocate("n1", "a");
  endpoint("a", "n1", live);
  const std::string ghost = allocate("gone", "b");
  endpoint("b", "gone", ghost);
  std::string out = ok({"ipam", "check"});
  EXPECT_NE(out.find("is affine to node gone, which does not exist."), std::string::npos) << out;
  EXPECT_NE(out.find("found 1 problems"), std::string::npos) << out;
  RunResult fixed = run({"ipam", "check", "--fix", "--yes"});
  EXPECT_EQ(fixed.code, 0) << fixed.err;
  EXPECT_NE(fixed.out.find("Released 1 blocks of node gone."), std::string::npos) << fixed.out;
  EXPECT_TRUE(client_->list(ipam::hostAffinityPrefix("gone", true))->items.empty());
  EXPECT_TRUE(ipam_->getAllocation(*IpAddr::parse(ghost)).isOk());  // the address stays
  EXPECT_NE(ok({"ipam", "check"}).find("found 0 problems"), std::string::npos);
}

}  // namespace
}  // namespace brindle::cli
