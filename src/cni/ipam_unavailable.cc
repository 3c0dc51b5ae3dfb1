// Stand-in for brindle::ipam::makeIpam while the ipam module is not part of the build: every
// call reports that in-process IPAM is unavailable, so delegated IPAM still works.
#include "ipam/ipam.h"

namespace brindle::ipam {
namespace {

Error unavailable() {
  return makeError(ErrorCode::kUnavailable, "brindle-ipam is not built into this binary");
}

class UnavailableIpam : public Ipam {
 public:
  Result<AssignResult> autoAssign(const AssignArgs&) override { return unavailable(); }
  Status assignIp(const IpAddr&, const std::string&, const std::string&,
                  const std::map<std::string, std::string>&) override {
    return unavailable();
  }
  Result<std::vector<IpAddr>> releaseByHandle(const std::string&) override { return unavailable(); }
  Result<std::vector<IpAddr>> releaseIps(const std::vector<IpAddr>&) override {
    return unavailable();
  }
  Result<Allocation> getAllocation(const IpAddr&) override { return unavailable(); }
  Result<std::vector<Allocation>> listAllocations() override { return unavailable(); }
  Result<std::vector<PoolUsage>> usage() override { return unavailable(); }
  Status setStrictAffinity(bool) override { return unavailable(); }
  Result<bool> strictAffinity() override { return unavailable(); }
};

}  // namespace

IpamPtr makeIpam(datastore::Client&) { return std::make_unique<UnavailableIpam>(); }

}  // namespace brindle::ipam
